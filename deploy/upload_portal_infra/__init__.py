"""AWS CDK (Python) for one Upload Portal environment: the upload bucket, the uploader role,
Cognito, and the portal's runtime on ECS Fargate. See docs/deploy.md."""
