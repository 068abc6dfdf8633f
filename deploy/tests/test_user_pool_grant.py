"""The server role may call the user pool as accounts/cognito.py does, on that one pool:
always read its app client and users (check_aws), and with customer_directory=cognito
also create, disable and enable users (CUSTOMER_DIRECTORY=cognito)."""

import dataclasses

from deploy.tests.conftest import synth


def user_pool_statement(template) -> dict:
    (policy,) = [
        r for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Policy" and "UserPool" in k
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    (role,) = policy["Properties"]["Roles"]
    assert role["Ref"].startswith("AccessServer")
    return statement


def test_by_default_the_server_role_only_reads_the_pool(templates):
    statement = user_pool_statement(templates["data"])
    assert set(statement["Action"]) == {"cognito-idp:DescribeUserPoolClient", "cognito-idp:AdminGetUser"}
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("IdentityUsers")
    outputs = {
        o.get("Description", "").split(":", 1)[0]: o["Value"] for o in templates["data"]["Outputs"].values()
    }
    assert outputs["CUSTOMER_DIRECTORY"] == "local"


def test_with_the_cognito_directory_it_manages_the_pools_users(tmp_path):
    from upload_portal_infra import config as configs

    config = dataclasses.replace(configs.load("example"), customer_directory="cognito")
    data = synth(tmp_path, config=config)["data"]

    statement = user_pool_statement(data)
    assert set(statement["Action"]) == {
        "cognito-idp:DescribeUserPoolClient",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminDisableUser",
        "cognito-idp:AdminEnableUser",
    }
    outputs = {o.get("Description", "").split(":", 1)[0]: o["Value"] for o in data["Outputs"].values()}
    assert outputs["CUSTOMER_DIRECTORY"] == "cognito"
