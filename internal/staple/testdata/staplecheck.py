#!/usr/bin/python3
"""staplecheck.py FILE: an independent reader of a stapled .pkg or .dmg.

Written from Apple's published formats, not from asc-auth's Go code, and
with the Python standard library only (struct for the binary layouts;
zlib, hashlib and xml.etree for the xar table of contents):

- a .pkg is a xar archive: a big-endian header (magic "xar!", header
  size, version, compressed and inflated TOC sizes, checksum algorithm;
  for algorithm 3 the name follows the header), the zlib-compressed XML
  TOC, then the heap, whose <checksum> entry holds the hash of the
  compressed TOC. A notarization ticket is appended after the heap as
  Apple's stapler writes it: a 16-byte little-endian "t8lr" record of
  type 1 (terminator), the ticket, and a "t8lr" record of type 2 whose
  length is the ticket's.
- a .dmg (UDIF) ends with a 512-byte big-endian "koly" block giving the
  XML plist's offset and length (at 216 and 224) and the code signature's
  offset and size (at 296 and 304). The signature is an embedded-signature
  superblob (0xfade0cc0, length, count, then count (type, offset) pairs);
  slot 0 is the code directory (0xfade0c02, hash type at byte 37); a
  ticket is a blob wrapper (0xfade0b01) in slot 0x10002.

It prints one JSON object: the ticket's record name ("2/<digest type>/
<first 20 bytes of the hash, hex>"), the ticket (hex), and what it read of
the structure. It exits 1, with the reason on stderr, on anything
malformed.
"""
import hashlib
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def fail(msg):
    sys.stderr.write("staplecheck: " + msg + "\n")
    sys.exit(1)


def record(digest_type, digest):
    return "2/%d/%s" % (digest_type, digest[:20].hex())


def check_pkg(data):
    if len(data) < 28 or data[:4] != b"xar!":
        fail("not a xar archive")
    hsize, version, toc_len, toc_size, alg = struct.unpack(">HHQQI", data[4:28])
    if version != 1:
        fail("xar version %d" % version)
    name = {0: None, 1: "sha1", 2: "md5"}.get(alg)
    if alg == 3:
        name = data[28:hsize].split(b"\0", 1)[0].decode()
    compressed = data[hsize:hsize + toc_len]
    toc_xml = zlib.decompress(compressed)
    if len(toc_xml) != toc_size:
        fail("the TOC inflates to %d bytes, not %d" % (len(toc_xml), toc_size))
    toc = ET.fromstring(toc_xml).find("toc")
    heap = hsize + toc_len
    cs = toc.find("checksum")
    style = cs.get("style")
    if style != name:
        fail("header checksum %s, TOC checksum %s" % (name, style))
    off, size = int(cs.findtext("offset")), int(cs.findtext("size"))
    stored = data[heap + off:heap + off + size]
    if hashlib.new(style, compressed).digest() != stored:
        fail("the stored TOC checksum does not match the TOC")
    # The heap ends after the last thing the TOC places in it.
    end = off + size
    sig = toc.find("signature")
    if sig is not None:
        end = max(end, int(sig.findtext("offset")) + int(sig.findtext("size")))
    for d in toc.iter("data"):
        end = max(end, int(d.findtext("offset")) + int(d.findtext("length")))
    heap_end = heap + end
    out = {"kind": "pkg", "checksum": style, "heap_end": heap_end,
           "signed": sig is not None,
           "record": record({"sha1": 1, "sha256": 2}[style], stored)}
    if len(data) == heap_end:
        out["ticket"] = None
        return out
    if len(data) < heap_end + 32:
        fail("%d bytes after the heap, too few for a trailer" % (len(data) - heap_end))
    magic, ver, typ, length, zero = struct.unpack("<4sHHII", data[-16:])
    if magic != b"t8lr" or ver != 1 or typ != 2 or zero != 0:
        fail("the last 16 bytes are not a ticket record: %r" % data[-16:])
    ticket = data[-16 - length:-16]
    term = data[-32 - length:-16 - length]
    if struct.unpack("<4sHHII", term) != (b"t8lr", 1, 1, 0, 0):
        fail("no terminator record before the ticket: %r" % term)
    if len(data) - 32 - length != heap_end:
        fail("the trailer does not start where the heap ends")
    out["ticket"] = ticket.hex()
    return out


SUPERBLOB, CODEDIR, WRAPPER = 0xfade0cc0, 0xfade0c02, 0xfade0b01
TICKET_SLOT = 0x10002


def check_dmg(data):
    if len(data) < 512:
        fail("shorter than a koly block")
    koly = data[-512:]
    magic, version, header_size = struct.unpack(">4sII", koly[:12])
    if magic != b"koly" or version != 4 or header_size != 512:
        fail("no koly block: %r %d %d" % (magic, version, header_size))
    plist_off, plist_len = struct.unpack(">QQ", koly[216:232])
    sig_off, sig_size = struct.unpack(">QQ", koly[296:312])
    if sig_size == 0:
        fail("no code signature")
    if sig_off + sig_size != len(data) - 512:
        fail("the signature (%d+%d) does not end where the koly block starts (%d)" % (sig_off, sig_size, len(data) - 512))
    if not data[plist_off:plist_off + plist_len].lstrip().startswith(b"<?xml"):
        fail("no XML plist where the koly block says")
    sig = data[sig_off:sig_off + sig_size]
    smagic, slen, count = struct.unpack(">III", sig[:12])
    if smagic != SUPERBLOB or slen != sig_size:
        fail("superblob magic %#x length %d, signature size %d" % (smagic, slen, sig_size))
    blobs, prev, cd, ticket = [], -1, None, None
    for i in range(count):
        slot, boff = struct.unpack(">II", sig[12 + 8 * i:20 + 8 * i])
        if slot <= prev:
            fail("the index is not in slot order")
        prev = slot
        bmagic, blen = struct.unpack(">II", sig[boff:boff + 8])
        if boff < 12 + 8 * count or boff + blen > slen:
            fail("blob in slot %#x lies outside the superblob" % slot)
        blob = sig[boff:boff + blen]
        blobs.append({"slot": slot, "offset": boff, "magic": bmagic, "length": blen,
                      "sha256": hashlib.sha256(blob).hexdigest()})
        if slot == 0:
            if bmagic != CODEDIR:
                fail("slot 0 is not a code directory")
            cd = blob
        if slot == TICKET_SLOT:
            if bmagic != WRAPPER:
                fail("the ticket slot is not a blob wrapper")
            ticket = blob[8:]
    # Blobs must not overlap.
    spans = sorted((b["offset"], b["offset"] + b["length"]) for b in blobs)
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        if b0 < a1:
            fail("blobs overlap")
    if cd is None:
        fail("no code directory")
    hash_type = cd[37]
    digest = {1: hashlib.sha1, 2: hashlib.sha256}[hash_type](cd).digest()
    return {"kind": "dmg", "plist_offset": plist_off, "plist_length": plist_len,
            "signature_offset": sig_off, "signature_size": sig_size, "blobs": blobs,
            "record": record(hash_type, digest),
            "ticket": ticket.hex() if ticket is not None else None}


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".pkg"):
        out = check_pkg(data)
    elif path.endswith(".dmg"):
        out = check_dmg(data)
    else:
        fail("not a .pkg or .dmg: " + path)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
