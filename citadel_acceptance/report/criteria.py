"""The seven MVP-2 success criteria (CONTRACT.md), in the words stakeholders use."""
from __future__ import annotations

CRITERIA: dict[str, str] = {
    "SC1": "All MVP-2 advanced features are operational and integrated",
    "SC2": "Performance optimization achieves all enhanced targets",
    "SC3": "Advanced monitoring with predictive analytics is functional",
    "SC4": "Operational excellence tools provide comprehensive management",
    "SC5": "The enhanced security framework protects all system components",
    "SC6": "The system stays stable for 72+ hours with advanced features on",
    "SC7": "All MVP-2 success criteria are validated and met: ready for handover to MVP-3",
}
