"""The Gateway data API, one module per domain, composed into one method set.

``Database`` and ``Transaction`` both inherit :class:`GatewayAPI`, so every operation exists
on both, identically; each domain module keeps its logic next to its declarations of the
named statements in ``sql/<domain>.sql``.
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
