"""The company's operations in /openapi.json: their scopes and tag, and the objects they answer
with, as the live server answers them (tests/openapi/test_fuzz.py holds every answer to the
document)."""

from __future__ import annotations

from typing import Any

from relance.auth.scopes import COMPANY_READ, USERS_READ
from tests.factories import Client

PATHS = {
    "/external-api/v1/company/profile": ("getCompanyProfile", COMPANY_READ, "CompanyAnswer"),
    "/external-api/v1/company/users": ("getCompanyUsers", USERS_READ, "UserList"),
    "/external-api/v1/company/credits": ("getCompanyCredits", COMPANY_READ, "CreditsAnswer"),
}
REF = "#/components/schemas/"


async def document(client: Client) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get("/openapi.json")).json()
    return found


async def test_each_operation_is_documented_with_its_scope(client: Client) -> None:
    shown = await document(client)

    for path, (operation_id, scope, answer) in PATHS.items():
        assert list(shown["paths"][path]) == ["get"], path
        operation = shown["paths"][path]["get"]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["Company"]
        assert operation["security"] == [{"oauth2": [scope]}]
        content = operation["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": REF + answer}
        assert {"401", "403", "429", "503"} <= set(operation["responses"])
    scopes = shown["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert {COMPANY_READ, USERS_READ} <= set(scopes["scopes"])


async def test_the_objects_are_getbills(client: Client) -> None:
    schemas = (await document(client))["components"]["schemas"]

    assert list(schemas["Company"]["properties"]) == ["id", "name", "email", "phone", "created_at"]
    assert schemas["Company"]["additionalProperties"] is False
    assert schemas["CompanyAnswer"]["properties"]["data"] == {"$ref": REF + "Company"}
    assert list(schemas["User"]["properties"]) == [
        "id", "email", "firstname", "lastname", "is_active", "created_at", "last_activity"
    ]  # fmt: skip
    users = schemas["UserList"]
    assert list(users["properties"]) == ["error", "message", "data"]
    assert users["properties"]["data"] == {"type": "array", "items": {"$ref": REF + "User"}}
    credits = schemas["Credits"]["properties"]
    assert list(credits) == ["current_credits", "subscription"]
    assert credits["current_credits"]["type"] == "null"
    assert credits["subscription"] == {"$ref": REF + "Subscription"}
    assert list(schemas["Subscription"]["properties"]) == ["plan", "status", "expires_at"]
