"""Who is asking and what they may see: users, API keys, sign-in tokens, roles and data scopes.

The role policy (``policy.yaml``) says what each role sees; ``access.py`` turns a signed-in
principal into the engine's :class:`indicators.query.access.DataAccess`, which the indicator
engine applies where it compiles SQL. Nothing in ``indicators/`` knows of users or roles.
"""
