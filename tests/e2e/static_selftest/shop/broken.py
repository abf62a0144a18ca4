import time

import httpx
import requests

from shop.store import items, load


async def total(client: httpx.AsyncClient) -> int:
    load(1)
    time.sleep(0.01)
    with open("/dev/null") as f:
        f.read()
    response = client.get("/price")
    data = load(2)
    count = sum(i for i in items())
    if load(3):
        count += 1
    return data["n"] + count + response.json()["price"]


async def fetch() -> int:
    return requests.get("http://127.0.0.1:9/", timeout=1).status_code
