"""``avp-py check``: find secret mistakes in manifests before Argo CD does.

Reads the same inputs as ``generate`` and reports, without printing or keeping any value:

* placeholders that cannot resolve (invalid, missing, disabled, unknown version), looking
  at secret *metadata* when the backend can (:class:`~avp_py.backends.base.MetadataBackend`);
* Azure ``SecretProviderClass`` objects that do not exist or are disabled, and
  ``secretObjects`` that name no mounted object or use invalid names or keys;
* references outside the naming policy (``AVP_SECRET_NAME_PATTERN``, ``AVP_ALLOWED_VAULTS``,
  ``AVP_PATH_VALIDATION``);
* placeholders Argo CD would show in clear (anything but ``data``/``stringData`` of a
  ``v1`` ``Secret``): a warning, an error with ``--strict``.

:func:`avp_py.check.run.check` is the library entry point, ``avp_py.cli.check`` the command.
This package imports nothing itself (``avp-py generate`` does not pay for the check) and
never click: it is a library.
"""
