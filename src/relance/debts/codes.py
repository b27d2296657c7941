"""Standard codes the write bodies check against: ISO 4217 currencies, ISO 3166 countries, IBANs."""

from __future__ import annotations

import re

# ISO 4217 active currency codes (2024 list), funds and precious metals excluded.
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a block of codes reads better than a list
)

_COUNTRY = re.compile(r"[A-Z]{2}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# The shape of an IBAN as a caller may write it, for the OpenAPI document.
IBAN_PATTERN = "^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{11,38}$"


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 shape: two capital letters."""
    return _COUNTRY.fullmatch(code) is not None


def is_iban(text: str) -> bool:
    """An IBAN (spaces allowed) whose ISO 7064 mod-97 check digits hold."""
    compact = text.replace(" ", "").upper()
    if _IBAN.fullmatch(compact) is None:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1
