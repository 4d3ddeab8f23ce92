"""Configuration: where settings come from and the one frozen object they become.

* :mod:`avp_py.settings.load`: :class:`Settings` and :func:`load_settings` (sources,
  precedence, validation);
* :mod:`avp_py.settings.configfile`: the ``-c`` config file, in the formats AVP (viper) reads;
* :mod:`avp_py.settings.kubesecret`: the ``-s`` config Secret, read from the in-cluster API;
* :mod:`avp_py.settings.policy`: path validation and the operator's tenant policy.

The config file and Secret readers are imported only when used (they pull in urllib, ssl and
configparser, which every render would otherwise pay for at start-up).
"""

from avp_py.settings.load import Options, Settings, load_settings

__all__ = ["Options", "Settings", "load_settings"]
