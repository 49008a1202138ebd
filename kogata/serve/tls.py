"""HTTPS for the clinic's LAN: a browser lets a page use the microphone only on a secure origin (https, or
localhost), so a doctor at another PC needs `kogata serve` over TLS.

    cert, key = tls.self_signed()            # made once under $KOGATA_HOME/tls, reused while it fits
    tls.check_pair(cert, key)                # InputError (one line) for a missing, unreadable or mismatched pair
    tls.machine_names()                      # ("clinic-pc", "clinic-pc.local", "192.168.1.20", …)

The self-signed certificate names this machine's host names and addresses (and localhost), so the page opens
at any of them after the browser's one-time warning; the banner prints its SHA-256 fingerprint for checking that
warning. It is made again only when it no longer covers the machine's names (a new address) or is near expiry.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import sys
from pathlib import Path

from kogata.errors import InputError
from kogata.home import home

VALID_DAYS = 825  # the longest lifetime browsers accept for a server certificate
RENEW_DAYS = 30  # made again when it has less left than this


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _interface_addresses() -> set[str]:
    """IPv4 addresses of this machine's interfaces (Linux: one ioctl per interface; elsewhere: none here)."""
    if not sys.platform.startswith("linux"):
        return set()
    import fcntl
    import struct

    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))  # SIOCGIFADDR
            except OSError:  # an interface without an IPv4 address
                continue
            found.add(socket.inet_ntoa(packed[20:24]))
    return found


def lan_addresses() -> list[str]:
    """This machine's non-loopback IP addresses, IPv4 first (what other PCs on the LAN can use)."""
    found = _interface_addresses()
    for name in {socket.gethostname(), socket.getfqdn()}:
        try:
            found.update(info[4][0] for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP))
        except OSError:
            pass
    try:  # the address of the default route: connecting a UDP socket sends nothing
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            found.add(s.getsockname()[0])
    except OSError:
        pass
    addresses = []
    for text in found:
        try:
            ip = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast):
            addresses.append(ip)
    return [str(ip) for ip in sorted(set(addresses), key=lambda ip: (ip.version, ip.packed))]


def machine_names() -> tuple[str, ...]:
    """The names a certificate for this machine should carry: host names, LAN addresses, and loopback."""
    names = []
    for name in (socket.gethostname(), socket.getfqdn()):
        name = name.strip().lower()
        if name and not _is_ip(name) and name != "localhost":
            names += [name] if "." in name else [name, name + ".local"]
    names += lan_addresses() + ["localhost", "127.0.0.1", "::1"]
    return tuple(dict.fromkeys(names))


def check_pair(cert: str | Path, key: str | Path) -> None:
    """InputError unless `cert` and `key` are readable PEM files that belong together."""
    for what, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not Path(path).is_file():
            raise InputError(f"{what} {path}: no such file")
    for what, path, marker in (("--tls-cert", cert, "CERTIFICATE-----"), ("--tls-key", key, "PRIVATE KEY-----")):
        try:
            head = Path(path).read_bytes()[:65536]
        except OSError as e:
            raise InputError(f"{what} {path}: cannot read it ({e.strerror})") from None
        if marker.encode() not in head:
            kind = "certificate" if what == "--tls-cert" else "private key"
            raise InputError(f"{what} {path} is not a PEM {kind} (-----BEGIN …{marker})")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or str(e)
        raise InputError(
            f"cannot use certificate {cert} with key {key}: {reason} (is the key this certificate's?)"
        ) from None


def cert_names(cert: str | Path) -> tuple[str, ...]:
    """The DNS names and IP addresses a PEM certificate is for (its subjectAltName)."""
    from cryptography import x509

    loaded = x509.load_pem_x509_certificate(Path(cert).read_bytes())
    try:
        alt = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(alt.get_values_for_type(x509.DNSName)) + tuple(
        str(ip) for ip in alt.get_values_for_type(x509.IPAddress)
    )


def fingerprint(cert: str | Path) -> str:
    """SHA-256 fingerprint as browsers show it (AA:BB:…)."""
    der = ssl.PEM_cert_to_DER_cert(Path(cert).read_text(encoding="ascii"))
    import hashlib

    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def _still_fits(cert: Path, key: Path, names: tuple[str, ...]) -> bool:
    from cryptography import x509

    try:
        check_pair(cert, key)
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except (InputError, ValueError, OSError):
        return False
    left = loaded.not_valid_after_utc - dt.datetime.now(dt.UTC)
    return left > dt.timedelta(days=RENEW_DAYS) and set(names) <= set(cert_names(cert))


def self_signed(folder: Path | None = None, names: tuple[str, ...] | None = None) -> tuple[Path, Path]:
    """(certificate, key) for this machine under `folder` ($KOGATA_HOME/tls): the one made before while it still
    covers `names` (default: machine_names()) and has RENEW_DAYS left, else a new one (ECDSA P-256)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = folder or home() / "tls"
    names = names or machine_names()
    cert, key = folder / "kogata-cert.pem", folder / "kogata-key.pem"
    if cert.exists() and key.exists() and _still_fits(cert, key, names):
        return cert, key
    folder.mkdir(parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"kogata {names[0]}"[:64])])
    now = dt.datetime.now(dt.UTC)
    alt = [x509.IPAddress(ipaddress.ip_address(n)) if _is_ip(n) else x509.DNSName(n) for n in names]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private, hashes.SHA256())
    )
    key_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(key, key_pem, mode=0o600)  # the key first: a cert without its key is never left behind alone
    _write(cert, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return cert, key


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write atomically, with `mode` from the start (a private key is never readable by others, even briefly)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
