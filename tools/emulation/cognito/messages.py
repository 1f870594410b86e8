"""Cognito's error texts and limits, each with its source.

[BC] botocore service model / API reference text; [REPORTED] real error text quoted in public
issues/code (see each constant); [INFERRED] no public text found, message chosen here.
"""

from __future__ import annotations

# [REPORTED] aws-amplify/amplify-js#6711 and public code matching the text exactly (docs/cognito-behaviours.md §2.3).
MSG_CANNOT_CONFIRM = "User cannot be confirmed. Current status is {status}"
# [REPORTED] AWS request-validation format; the 20-char limit is [BC] SchemaAttributeType.Name
# (max 20) and the quotas page; the text "Value '...' at 'schema.1.member.name' failed to satisfy
# constraint: Member must have length less than or equal to 20" is quoted by a public CDK preflight
# rule for a failed pool create.
MSG_VALIDATION_LENGTH = (
    "1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
    "constraint: Member must have length less than or equal to {limit}"
)
MSG_VALIDATION_PATTERN = (
    "1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
    "constraint: Member must satisfy regular expression pattern: {pattern}"
)
# Sensitive members (ClientSecret, CSS/ImageFile bodies) are named without their value, as in
# Cognito's well-known "Value at 'password' failed to satisfy constraint: ..." [REPORTED].
MSG_VALIDATION_LENGTH_HIDDEN = (
    "1 validation error detected: Value at '{path}' failed to satisfy "
    "constraint: Member must have length less than or equal to {limit}"
)
MSG_VALIDATION_PATTERN_HIDDEN = (
    "1 validation error detected: Value at '{path}' failed to satisfy "
    "constraint: Member must satisfy regular expression pattern: {pattern}"
)
# [INFERRED] the limit is [BC]/quotas ("Custom attributes per user pool: 50 (not adjustable)"); no
# public copy of Cognito's text was found.
MSG_TOO_MANY_CUSTOM = "Too many custom attributes: a user pool can have at most 50 custom attributes."
# [REPORTED] docs/cognito-behaviours.md §1.3 (emulators/preflight rules copying the real message).
MSG_ALIAS_AND_USERNAME = "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."
# [REPORTED] aws/aws-sdk-js#3817 (docs/cognito-behaviours.md §1.4).
MSG_UNUSED_ACCOUNT_DAYS = (
    "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays"
)
# [REPORTED] for `sub`: public restore code quoting AdminCreateUser's rejection ("We cannot just
# spread the sourceUser as it causes an exception: `Cannot modify the non-mutable attribute sub`").
# `sub` IS in the schema (so the schema message would be wrong for it); `identities` and
# `cognito:*` are not schema attributes, so they get the schema message below.
MSG_NON_MUTABLE = "Cannot modify the non-mutable attribute {name}"
# [REPORTED] aws-amplify/amplify-js#2167 (docs/cognito-behaviours.md §2.2), seen on SignUp.
MSG_NOT_IN_SCHEMA = "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
# [INFERRED] the rule is [BC] AdminCreateUser.UserAttributes ("You must provide a value for email
# when you want to set email_verified to true"; same for phone_number); text not found publicly.
MSG_VERIFIED_WITHOUT_VALUE = "Cannot set {flag} to true without providing a value for {attribute}."
# [REPORTED] "Password does not conform to policy: Password not long enough" is quoted by many
# public apps handling Cognito errors; the other reasons follow the same pattern.
MSG_PASSWORD = "Password does not conform to policy: {reason}"
# [REPORTED] aws/aws-cdk#2608, #20760, terraform-provider-aws#4476 (docs/cognito-behaviours.md §5); the "updating"
# variant is quoted by a public deployment log (client update refused for email_verified).
MSG_INVALID_WRITE = "Invalid write attributes specified while {action} a client"
MSG_INVALID_READ = "Invalid read attributes specified while {action} a client"
# [REPORTED] many CDK/Terraform reports, e.g. "InvalidParameterException: The provider EntraID
# does not exist for User Pool ap-northeast-1_dmfNfszQN".
MSG_NO_PROVIDER = "The provider {name} does not exist for User Pool {pool}"
# [INFERRED] error code from [BC] CreateUserPoolClient errors; text as the brief suggests.
MSG_NO_SCOPE = "Invalid scope requested: {scope}"
# [BC] CreateUserPoolClient.ClientSecret doc sentence (Cognito's own text not found).
MSG_SECRET_AND_GENERATE = "You cannot specify both GenerateSecret as true and provide a ClientSecret value."
# [REPORTED] Cognito domain uniqueness: aws-samples/websocket-chat-application#56 (docs/cognito-behaviours.md §7).
MSG_DOMAIN_TAKEN = "Domain already associated with another user pool."
# [REPORTED] CloudFormation errors quoted in many public READMEs ("User pool already has a domain
# configured. (Service: AWSCognitoIdentityProviderService; ... InvalidParameterException").
MSG_POOL_HAS_DOMAIN = "User pool already has a domain configured."
# [REPORTED] aws-solutions/content-analysis-on-aws#8 (docs/cognito-behaviours.md §7).
MSG_RESERVED_WORD = "Domain cannot contain reserved word: {word}"
# [REPORTED] exact AWS text matched by aws-nuke's Cognito handler.
MSG_DELETION_PROTECTION = (
    "The user pool cannot be deleted because deletion protection is activated. "
    "Deletion protection must be inactivated first."
)
# [REPORTED] docs/cognito-behaviours.md §2.8 (emulator test reproducing the AWS text); EMAIL_OTP by analogy [INFERRED].
MSG_NO_DELIVERY = "User does not have delivery config set to turn on {factor}"
# [INFERRED] the requirement is [BC] SetUICustomization ("Your user pool must have a domain"); the
# text is the brief's.
MSG_NO_DOMAIN_FOR_UI = "There has to be an existing domain associated with this user pool"
# [INFERRED] code from [BC] SetRiskConfiguration errors ("To activate this setting, your user pool
# must be on the Plus tier"); text not found publicly.
MSG_ADDON_NOT_ENABLED = (
    "Threat protection (advanced security) is not enabled for this user pool: "
    "it needs UserPoolTier PLUS or UserPoolAddOns.AdvancedSecurityMode AUDIT/ENFORCED."
)
# [INFERRED] texts for AdminLinkProviderForUser; rules from [BC] (see _admin_link_provider_for_user).
MSG_LINK_SOURCE_COGNITO = "The SourceUser must be a user of an external identity provider, not Cognito."
MSG_LINK_SOCIAL_ATTRIBUTE = "ProviderAttributeName must be Cognito_Subject for the {type} provider {name}."
MSG_LINK_ATTRIBUTE_NOT_MAPPED = (
    "ProviderAttributeName {attribute} is neither Cognito_Subject nor a user pool "
    "attribute mapped by the provider {name}."
)
MSG_LINK_IMMUTABLE = (
    "The destination user cannot be linked: it has a value for the immutable attribute "
    "{attribute} (all attributes of the DestinationUser must be mutable)."
)
MSG_LINK_LIMIT = "A user can have at most 5 linked identities."
MSG_LINK_EXISTS = "The external identity {provider}:{value} is already linked to another user."
# [INFERRED] modelled on moto's/Cognito's "User pool X does not exist." texts.
MSG_CLIENT_NOT_FOUND = "User pool client {client} does not exist."
MSG_RESOURCE_NOT_FOUND = "Resource {arn} does not exist."

STANDARD_SCOPES = frozenset({"phone", "email", "openid", "profile", "aws.cognito.signin.user.admin"})
SOCIAL_PROVIDER_TYPES = frozenset({"Google", "Facebook", "LoginWithAmazon", "SignInWithApple"})
# [REPORTED] not writable by any app client (docs/cognito-behaviours.md §5; a live deployment log for email_verified).
UNWRITABLE_BY_CLIENTS = frozenset({"sub", "email_verified", "phone_number_verified"})
# [DOC] valid shorthand in Read/WriteAttributes (docs/cognito-behaviours.md §5).
CLIENT_ATTRIBUTE_SHORTHANDS = frozenset({"oidc:profile"})
RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")
PREFIX_DOMAIN_PATTERN = r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$"  # [BC] CreateUserPoolDomain.Domain
CLIENT_SECRET_PATTERN = r"[\w+]+"  # [BC] CreateUserPoolClient.ClientSecret (24-64 chars)
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")  # Cognito's special characters (and space)
MAX_LINKS_PER_USER = 5  # [BC] AdminLinkProviderForUser / quotas page
MAX_CUSTOM_ATTRIBUTES = 50  # quotas page
MAX_ATTRIBUTE_NAME = 20  # [BC] SchemaAttributeType.Name
MAX_UI_BYTES = 131072  # [BC] SetUICustomization CSS / ImageFile
# Creation-only settings: not in UpdateUserPool's input [BC], kept by Cognito.
IMMUTABLE_POOL_SETTINGS = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")

# [REPORTED] aws-amplify/amplify-flutter#1328; awslabs/nx-plugin-for-aws#631 (a deleted role gets
# the same code and text). The rule is [BC] InvalidSmsRoleTrustRelationshipException ("you don't
# trust cognito-idp.amazonaws.com or the external ID ... does not match") and the developer guide's
# trust policy with aws:SourceArn / aws:SourceAccount (docs/messaging.md).
MSG_SMS_TRUST = "Role does not have a trust relationship allowing Cognito to assume the role"
# [REPORTED] OElesin/querypal#6 (CreateUserPool through CloudFormation).
MSG_SMS_PUBLISH = "Role does not have permission to publish with SNS"
# [REPORTED] InvalidParameterException with this text for a SourceArn that is no verified identity of its
# Region: aws/aws-cdk#18964 and #19787, aws-amplify/amplify-backend#3134 (an address of a domain verified
# only as a domain, named by an address ARN), all on CreateUserPool (docs/messaging.md). [BC] lists
# InvalidEmailRoleAccessPolicyException for "an unverified email address" too; real Cognito answers this.
MSG_EMAIL_NOT_VERIFIED = (
    "Cognito received the following error from Amazon SES when attempting to send email: Email address is not "
    "verified. The following identities failed the check in region {region}: {arn}"
)
# [REPORTED] NotAuthorizedException, aws/aws-cdk#25115 (a SourceArn without the identity name). An
# identity of another account gets it too [INFERRED from the text]: Cognito sends only from its own account's.
MSG_EMAIL_ARN_NOT_YOURS = "Email arn does not belong to your account."
# [REPORTED] aws/aws-cdk#9739 (InvalidParameterException).
MSG_DEFAULT_FROM = "Cannot configure From email address for default email configuration"
# [INFERRED] code and text: no public copy of Cognito's answer for a missing configuration set.
MSG_NO_CONFIGURATION_SET = "The SES configuration set {name} does not exist in {region}."

# ----------------------------------------------------------------------------------- SignUp (11.)
# [REPORTED] NotAuthorizedException for SignUp in a pool that allows only administrators to create
# users (AdminCreateUserConfig.AllowAdminCreateUserOnly true): many public reports and SDK issues,
# e.g. aws-amplify/amplify-js issues quoting "SignUp is not permitted for this user pool".
MSG_SIGN_UP_NOT_PERMITTED = "SignUp is not permitted for this user pool"
# [REPORTED] NotAuthorizedException when a sent attribute is not in the client's WriteAttributes
# (verification flags never are): quoted in many public Amplify / SDK issues.
MSG_UNAUTHORIZED_ATTRIBUTE = "A client attempted to write unauthorized attribute"
# [REPORTED] NotAuthorizedException for a client with a secret: without SecretHash, and with a wrong one.
MSG_SECRET_HASH_MISSING = "Client {client} is configured for secret but secret was not received"
MSG_SECRET_HASH_WRONG = "Unable to verify secret hash for client {client}"
# [REPORTED] InvalidParameterException for a required attribute left out at sign-up.
MSG_REQUIRED_ATTRIBUTE = "Attributes did not conform to the schema: {name}: The attribute is required"
# [INFERRED] a password-based sign-up without a password (passwordless sign-up is not emulated).
MSG_PASSWORD_REQUIRED = "Password is required for this sign-up: the user pool does not allow passwordless sign-up"
# [INFERRED] modelled on moto's "Username/client id combination not found."
MSG_USER_NOT_FOUND = "Username/client id combination not found."
# [REPORTED] InvalidParameterException of ResendConfirmationCode for a confirmed user.
MSG_ALREADY_CONFIRMED = "User is already confirmed."
# [REPORTED] InvalidParameterException of ResendConfirmationCode in a pool that verifies nothing automatically.
MSG_CANNOT_RESEND = "Cannot resend codes. Auto verification not turned on or no verified email or phone number"
