"""The Gateway data API, one module per domain, composed into one method set.

``gatewaydb.Database`` and ``gatewaydb.Transaction`` (:mod:`.database`) both inherit
:class:`GatewayAPI`, so every operation exists on both, identically. Each domain module runs
the statements declared in :mod:`.queries` through the core's public ``run``.
"""

from __future__ import annotations

from .assets import AssetsAPI
from .campaigns import CampaignsAPI
from .clips import ClipsAPI
from .conversions import ConversionsAPI
from .experiments import ExperimentsAPI
from .predictions import PredictionsAPI
from .users import UsersAPI

__all__ = ["GatewayAPI"]


class GatewayAPI(UsersAPI, AssetsAPI, ClipsAPI, CampaignsAPI, ExperimentsAPI, PredictionsAPI,
                 ConversionsAPI):
    """Every domain's operations; see each base class for its domain."""

    __slots__ = ()
