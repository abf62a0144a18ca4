import httpx
import pytest

from shop.clean import total


@pytest.mark.anyio
async def test_total():
    async with httpx.AsyncClient(base_url="http://testserver") as client:
        total(client)
