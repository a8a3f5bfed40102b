"""Where the Live API lives: the base URL for a region, or a validated explicit override."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

from asrtui.errors import ConfigError

__all__ = ["DEFAULT_REGION", "LISTED_REGIONS", "resolve_endpoint"]

#: The region used when neither the profile, the environment nor ``--region`` names one.
DEFAULT_REGION = "cn-shanghai"

#: The central endpoint every listed region maps to in the official SDK.
_CENTRAL_HOST = "live.aliyuncs.com"

#: Regions the official SDK (alibabacloud-live20161101 3.0.2) maps to the central endpoint.
LISTED_REGIONS: frozenset[str] = frozenset(
    {
        "cn-qingdao", "cn-beijing", "cn-hangzhou", "cn-shanghai", "cn-shenzhen",
        "ap-southeast-1", "ap-southeast-5", "ap-northeast-1", "eu-central-1", "ap-south-1",
        "ap-northeast-2-pop", "ap-southeast-2", "ap-southeast-3", "cn-beijing-finance-1",
        "cn-beijing-finance-pop", "cn-beijing-gov-1", "cn-beijing-nu16-b01", "cn-chengdu",
        "cn-edge-1", "cn-fujian", "cn-haidian-cm12-c01", "cn-hangzhou-bj-b01",
        "cn-hangzhou-finance", "cn-hangzhou-internal-prod-1", "cn-hangzhou-internal-test-1",
        "cn-hangzhou-internal-test-2", "cn-hangzhou-internal-test-3", "cn-hangzhou-test-306",
        "cn-hongkong", "cn-hongkong-finance-pop", "cn-huhehaote", "cn-huhehaote-nebula-1",
        "cn-north-2-gov-1", "cn-qingdao-nebula", "cn-shanghai-et15-b01", "cn-shanghai-et2-b01",
        "cn-shanghai-finance-1", "cn-shanghai-inner", "cn-shanghai-internal-test-1",
        "cn-shenzhen-finance-1", "cn-shenzhen-inner", "cn-shenzhen-st4-d01",
        "cn-shenzhen-su18-b01", "cn-wuhan", "cn-wulanchabu", "cn-yushanfang", "cn-zhangbei",
        "cn-zhangbei-na61-b01", "cn-zhangjiakou", "cn-zhangjiakou-na62-a01",
        "cn-zhengzhou-nebula-1", "eu-west-1", "eu-west-1-oxs", "me-east-1", "rus-west-1-pop",
        "us-east-1", "us-west-1", "me-central-1",
    }
)  # fmt: skip

# A region id becomes a DNS label: lower-case letters, digits and inner hyphens only.
_REGION_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# What the HTTP stack reads as an IPv4 address (and then refuses if it is not one).
_IPV4_STYLE_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$")


def resolve_endpoint(region: str | None, override: str | None) -> str:
    """Return the base URL (scheme and host, no trailing slash) to send requests to.

    An explicit override always wins so that users can reach the local emulator
    (``http://127.0.0.1:PORT``), a proxy, or an endpoint newer than this table. It must name
    its scheme: ``127.0.0.1:8080`` alone is far more often a plain-HTTP emulator or proxy than
    a TLS one, and guessing HTTPS turned a typo into a certificate error (`_require_scheme`).

    Args:
        region: the region id, ``None`` or empty for the default region.
        override: an explicit endpoint (``http://127.0.0.1:8080``, ``https://host``).

    Raises:
        ConfigError: the override is not an http(s) URL with a host (it has no scheme, or holds
            whitespace or a control character anywhere), or the region id cannot be part of a
            host name.
    """
    if override is not None and override.strip():
        return _validate_override(override)
    region_id = (region or "").strip() or DEFAULT_REGION
    if region_id in LISTED_REGIONS:
        return f"https://{_CENTRAL_HOST}"
    if not _REGION_RE.fullmatch(region_id):
        raise ConfigError(
            f"Invalid region id {region_id!r}{_odd_characters(region_id)}",
            "give --region (or the profile's region) an id such as cn-shanghai or "
            "ap-southeast-1, or pass --endpoint",
        )
    return f"https://live.{region_id}.aliyuncs.com"


def _odd_characters(value: str) -> str:
    """``": it contains ..."`` when ``value`` holds whitespace or an invisible character.

    Said outright because the quoted value shows them only as escapes (``\\n``), or not at all
    (a trailing space), and the user would look for a typo elsewhere. ``""`` otherwise.
    """
    if any(char.isspace() for char in value):
        return ": it contains whitespace"
    if not value.isprintable():
        return ": it contains a control or invisible character"
    return ""


def _require_scheme(value: str) -> None:
    """Refuse an endpoint without ``scheme://``, suggesting both ``http://`` and ``https://``.

    Checked before anything else is said about the value; user info (``user:password@``) is
    refused without echoing it, since it is usually a secret.
    """
    if _SCHEME_RE.match(value):
        return
    authority = value.strip().split("/", 1)[0]
    if "@" in authority:
        raise ConfigError(
            "Invalid endpoint: user info (user:password@) is not allowed",
            "give --endpoint (or the profile's endpoint) an http(s) URL such as "
            "https://live.aliyuncs.com or http://127.0.0.1:8080",
        )
    odd = _odd_characters(value)
    if not odd and (not authority or authority.startswith(":")):
        odd = ": no host"
    if odd:
        raise ConfigError(
            f"Invalid endpoint {value!r}{odd}",
            "give --endpoint (or the profile's endpoint) an http(s) URL such as "
            "https://live.aliyuncs.com or http://127.0.0.1:8080",
        )
    raise ConfigError(
        f"Endpoint {value!r} has no scheme",
        f"write http://{authority} for a plain-HTTP server (the local emulator, a proxy) or "
        f"https://{authority} for a TLS one (the Live API is https://live.aliyuncs.com)",
    )


def _validate_override(value: str) -> str:
    """Normalise an explicit endpoint to ``scheme://host[:port]`` or raise `ConfigError`.

    Whitespace and control characters are refused anywhere in ``value``, ends included: URL
    parsers drop some of them silently (tabs, line breaks) and choke on others, so the host
    asrtui would reach is not the one the user sees, or the failure comes later and vaguer.
    """
    _require_scheme(value)
    text = value
    hint = (
        "give --endpoint (or the profile's endpoint) an http(s) URL such as "
        "https://live.aliyuncs.com or http://127.0.0.1:8080"
    )
    if "@" in text.split("://", 1)[1].split("/", 1)[0]:
        # Never echo the value: user info in a URL is usually a secret.
        raise ConfigError("Invalid endpoint: user info (user:password@) is not allowed", hint)
    odd = _odd_characters(value)
    if odd:
        raise ConfigError(f"Invalid endpoint {value!r}{odd}", hint)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(f"Invalid endpoint {value!r}", hint) from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise ConfigError(f"Unsupported endpoint scheme {parts.scheme!r} in {value!r}", hint)
    host = parts.hostname
    if not host:
        raise ConfigError(f"Invalid endpoint {value!r}: no host", hint)
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ConfigError(f"Invalid endpoint {value!r}: expected no path or query", hint)
    problem = _host_problem(host)
    if problem:
        raise ConfigError(f"Invalid endpoint {value!r}: {problem}", hint)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def _host_problem(host: str) -> str:
    """Why the HTTP stack would refuse ``host`` (completing "Invalid endpoint X: ..."), or ``""``.

    httpx reads a dotted quad as an IPv4 address and any other host as a name; a name that is
    not ASCII is encoded with IDNA, and one written in IDNA's ASCII form (``xn--...``) is
    decoded with it. Each of these raises (``idna.IDNAError``, not httpx's own error) only when
    the first request is made, so the same checks run here, where they give a usage error.
    """
    if ":" in host:  # an IPv6 literal: urlsplit has checked it
        return ""
    if _IPV4_STYLE_RE.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{host!r} is not an IPv4 address"
        return ""
    try:
        if not host.isascii():
            idna.encode(host.lower())
        else:
            for label in host.split("."):
                if label.lower().startswith("xn--"):
                    idna.decode(label.lower())
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        return f"the host name {host!r} is not a valid internationalised (IDNA) name"
    return ""
