import asyncio


async def load(n: int) -> dict:
    await asyncio.sleep(0)
    return {"n": n}


async def items() -> list[int]:
    await asyncio.sleep(0)
    return [1, 2]
