"""Amazon Cognito as docs/sign-in.md sets it up: a user pool nobody signs up to, its managed
login domain, optional customer IdPs (SAML or OIDC) with `email` and `email_verified`
mapped, and one confidential app client (authorization code only; the portal always sends
PKCE S256) whose secret goes to Secrets Manager for COGNITO_CLIENT_SECRET."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .config import EnvironmentConfig
from .nag import acknowledge

MFA = {"OFF": cognito.Mfa.OFF, "OPTIONAL": cognito.Mfa.OPTIONAL, "ON": cognito.Mfa.REQUIRED}


class Identity(Construct):
    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,  # customers are invited by consultants, never sign up
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            mfa=MFA[config.cognito_mfa],
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        plus = (
            "Threat protection (the Plus feature plan) is priced per active user; the portal already "
            "rate-limits and audits failed sign-ins, and most customers sign in through their own IdP. "
            "Turn it on for an environment that wants it."
        )
        acknowledge(self.user_pool, "AwsSolutions-COG8", plus)
        if config.cognito_mfa != "ON":
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                "Federated users authenticate (and do MFA) at their own IdP; the portal "
                "enforces TOTP itself for staff and for organisations that require it "
                "(accounts.middleware.RequireMFAMiddleware). Set cognito_mfa=ON to require it here.",
            )

        self.domain = self.user_pool.add_domain(
            "ManagedLogin",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=config.cognito_domain_prefix or config.prefix
            ),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )

        providers = []
        if config.cognito_pool_users:
            providers.append(cognito.UserPoolClientIdentityProvider.COGNITO)
        idp_resources = []
        for idp in config.identity_providers:
            details = dict(idp.details)
            if idp.kind == "OIDC":
                details.setdefault("authorize_scopes", "openid email profile")
                details.setdefault("attributes_request_method", "GET")
            resource = cognito.CfnUserPoolIdentityProvider(
                self,
                f"Idp{idp.name}",
                user_pool_id=self.user_pool.user_pool_id,
                provider_name=idp.name,
                provider_type=idp.kind,
                provider_details=details,
                attribute_mapping={
                    "email": idp.email_attribute,
                    "email_verified": idp.email_verified_attribute,
                },
            )
            idp_resources.append(resource)
            providers.append(cognito.UserPoolClientIdentityProvider.custom(idp.name))

        self.client = self.user_pool.add_client(
            "Portal",
            generate_secret=True,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=config.callback_urls,
                logout_urls=config.logout_urls,
            ),
            supported_identity_providers=providers,
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True, fullname=True, given_name=True, family_name=True
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
        )
        for resource in idp_resources:
            self.client.node.add_dependency(resource)

        # Managed login (v2) shows a page only for app clients that have a branding style.
        branding = cognito.CfnManagedLoginBranding(
            self,
            "Branding",
            user_pool_id=self.user_pool.user_pool_id,
            client_id=self.client.user_pool_client_id,
            use_cognito_provided_values=True,
        )
        branding.node.add_dependency(self.domain)

        cfn_client: cognito.CfnUserPoolClient = self.client.node.default_child
        self.client_secret = secretsmanager.Secret(
            self,
            "ClientSecret",
            description="COGNITO_CLIENT_SECRET of the Upload Portal app client",
            secret_string_value=SecretValue.resource_attribute(cfn_client.attr_client_secret),
        )
        acknowledge(
            self.client_secret,
            "AwsSolutions-SMG4",
            "The value is the app client's secret, which Cognito owns; rotating it means "
            "a new app client (a stack change), not a rotation Lambda.",
        )
        region = Stack.of(self).region
        self.server_url = f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool.user_pool_id}"
