"""Personal information out of logs and masked exports: `mask_text`, `mask_json`, and logging that masks."""

from kogata.privacy.logs import MaskingFilter, MaskingFormatter, install_masking, masking_handler, remember
from kogata.privacy.mask import LABELS, find_pii, mask_json, mask_text

__all__ = [
    "LABELS",
    "MaskingFilter",
    "MaskingFormatter",
    "find_pii",
    "install_masking",
    "mask_json",
    "mask_text",
    "masking_handler",
    "remember",
]
