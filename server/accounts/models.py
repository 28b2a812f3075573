from tortoise import fields
from tortoise.models import Model

from server.enums import Role


class User(Model):
    """A person who signs in. No passwords: only passkeys."""

    id = fields.IntField(primary_key=True)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="users")
    organisation_id: int  # set by the ORM; declared for type checkers
    name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16)
    language = fields.CharField(max_length=5)
    time_zone = fields.CharField(max_length=64)
    # Random, opaque WebAuthn user handle: never the database id or a name.
    webauthn_handle = fields.BinaryField()
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"


class Passkey(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="passkeys")
    user_id: int
    credential_id = fields.BinaryField()
    credential_key = fields.CharField(max_length=700, unique=True)  # base64url of credential_id
    public_key = fields.BinaryField()
    sign_count = fields.BigIntField(default=0)
    transports = fields.JSONField(default=list)
    name = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey"


class Invitation(Model):
    """A one-time enrolment (or recovery) link. Only a hash of its token is kept."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="invitations")
    role = fields.CharEnumField(Role, max_length=16)
    name = fields.CharField(max_length=200)
    language = fields.CharField(max_length=5)
    # For a family member: the participant they are linked to.
    participant = fields.ForeignKeyField(
        "models.Participant", related_name="invitations", null=True
    )
    # For a recovery link: the existing account that gets a new passkey.
    user = fields.ForeignKeyField("models.User", related_name="recoveries", null=True)
    user_id: int | None
    organisation_id: int
    # For a coordinator: the countries they will see, as "KZ,TN".
    countries = fields.CharField(max_length=32, default="")
    created_by = fields.ForeignKeyField("models.User", related_name="invited", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"


class LoginSession(Model):
    """A server-side sign-in session. The cookie holds only a random token."""

    token_hash = fields.CharField(max_length=64, primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="login_sessions")
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    ip = fields.CharField(max_length=64, default="")
    device = fields.CharField(max_length=200, default="")
    # The passkey that opened it: removing that passkey ends the session.
    # Empty for sessions opened before this was kept (and in tests).
    passkey = fields.ForeignKeyField(
        "models.Passkey", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    passkey_id: int | None

    class Meta:
        table = "login_session"


class Challenge(Model):
    """A WebAuthn challenge: single-use, bound to one ceremony, short-lived."""

    id = fields.CharField(max_length=64, primary_key=True)  # hash of the ceremony cookie
    ceremony = fields.CharField(max_length=16)  # "register" | "authenticate"
    challenge = fields.BinaryField()
    user = fields.ForeignKeyField("models.User", related_name="challenges", null=True)
    invitation = fields.ForeignKeyField("models.Invitation", related_name="challenges", null=True)
    invitation_id: int | None
    user_id: int | None
    # For enrolment: the handle the new account will get, chosen with the options.
    user_handle = fields.BinaryField(null=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "challenge"
