"""A Cognito user pool and the portal's app client on the tests' moto server, with the
portal's settings pointed at them (CUSTOMER_DIRECTORY=cognito). Shared by the directory
tests and the audit scenarios, which cannot see accounts/tests/conftest.py."""

from dataclasses import dataclass
from typing import Any

import boto3

CALLBACK = "http://testserver/accounts/oidc/cognito/login/callback/"


@dataclass
class Pool:
    client: Any
    pool_id: str
    client_id: str

    def user(self, email: str) -> dict | None:
        try:
            answer = self.client.admin_get_user(UserPoolId=self.pool_id, Username=email)
        except self.client.exceptions.UserNotFoundException:
            return None
        answer["attributes"] = {a["Name"]: a["Value"] for a in answer["UserAttributes"]}
        return answer

    def add_user(self, email: str) -> None:
        self.client.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )


def make_pool(moto_server, settings, *, sends_invitation: bool = False) -> Pool:
    client = boto3.client("cognito-idp", endpoint_url=moto_server.url, region_name=settings.AWS_REGION)
    # As deploy/upload_portal_infra/identity.py makes it: the email address is the username.
    pool = client.create_user_pool(PoolName="upload-portal", UsernameAttributes=["email"])["UserPool"]
    app = client.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="portal",
        GenerateSecret=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "profile"],
        CallbackURLs=[CALLBACK],
        LogoutURLs=["http://testserver/accounts/login/"],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    settings.AWS_ENDPOINT_URL = moto_server.url
    settings.CUSTOMER_DIRECTORY = "cognito"
    settings.COGNITO_USER_POOL_ID = pool["Id"]
    settings.COGNITO_CLIENT_ID = app["ClientId"]
    settings.COGNITO_SENDS_INVITATION = sends_invitation
    return Pool(client, pool["Id"], app["ClientId"])
