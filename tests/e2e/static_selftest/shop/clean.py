import asyncio

import aiofiles
import httpx

from shop.store import items, load


async def total(client: httpx.AsyncClient) -> int:
    await load(1)
    await asyncio.sleep(0.01)
    async with aiofiles.open("/dev/null") as f:
        await f.read()
    response = await client.get("/price")
    data = await load(2)
    count = sum(i for i in await items())
    if await load(3):
        count += 1
    return data["n"] + count + response.json()["price"]
