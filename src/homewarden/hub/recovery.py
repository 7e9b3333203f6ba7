"""Recovering a lost passphrase with the recovery key: what `keys recover` and the browser's recovery page both do."""

from __future__ import annotations

from homewarden.accounts.passwords import check_new_password
from homewarden.accounts.store import AccountStore, PasswordChanged, UserRecord
from homewarden.store.keys import HomeKeyFile


def recover_home(
    key_file: HomeKeyFile, accounts: AccountStore, recovery_key: str, new_passphrase: str, *, revoke_tokens: bool
) -> list[tuple[UserRecord, PasswordChanged]]:
    """Set a new passphrase with the recovery key; the hub's owners sign in with it, every session of theirs ends.

    Raises WeakPasswordError before anything changes when the passphrase is too weak to be the owners' password
    (their rule is stricter than the key file's), and the key file's HomeKeyError for a wrong recovery key.
    """
    owners = accounts.hub_owners()
    if owners:
        check_new_password(new_passphrase)
    key_file.recover(recovery_key, new_passphrase)
    # A recovery is a reset: whoever knew the old password (a thief, say) is signed out everywhere.
    return [(owner, accounts.reset_password(owner.id, new_passphrase, revoke_tokens=revoke_tokens)) for owner in owners]
