"""Destinations an attacker would try: hosts built from the allowed domain and look-alikes, joined
by separators that parsers disagree on (backslashes, fullwidth and other confusable solidi,
percent-encoded dots and slashes, IDNA, IP literals, user info, ports, tabs and newlines)."""
from __future__ import annotations

from hypothesis import strategies as st

ALLOWED = ("shop.example.com",)

HOSTS = ["shop.example.com", "SHOP.Example.COM", "m.shop.example.com", "evil.com", "example.com", "com",
         "shop.example.com.evil.net", "evilshop.example.com", "xn--80ak6aa92e.com", "\u0430pple.com",
         "\u0455hop.example.com", "sh\u00adop.example.com", "shop\u3002example\u3002com", "shop\uff0eexample.com",
         "shop%2eexample.com", "evil%2ecom", "127.0.0.1", "0x7f.1", "2130706433", "[::1]", "[::ffff:7f00:1]",
         "[v1.x]", "b\u00fccher.example.com", "xn--bcher-kva.shop.example.com", "localhost", ""]
SEPARATORS = ["", ".", "\\", "/", "//", "\uff0f", "\uff3c", "\u2215", "\u2044", "\ufe68", "\u29f5", "%2f", "%5c",
              "%2e", "@", "#", "?", ":", ";", "\t", "\n", "\r", " ", "\u200b", "\u3002", "\x00"]
SCHEMES = ["https://", "https:", "https:/", "https:\\\\", "https:/\\", "https:///", "HTTPS://", "http://",
           "javascript:", "//", "\\\\", " https://", "\thttps://", "https\t://", "data:text/html,", "ftp://"]
USERINFO = ["", "", "", "user@", "user:pw@", "@", "evil.com@", "shop.example.com@", "a%40b@", ":@"]
PORTS = ["", "", "", ":443", ":8443", ":0", ":99999", ":", ":https"]
TAIL_PIECES = st.sampled_from(list("abz09/?#&=%.-_~!$'()*+,;@:\\ \t\n\"<>`{}|^") +
                              ["\uff0f", "\uff3c", "\u00e9", "\u202e", "\ud7ff", "%2F", "%00", "upline_click=",
                               "evil.com", "//evil.com", "\\evil.com"])


@st.composite
def hosts(draw) -> str:
    parts = draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=3))
    seps = [draw(st.sampled_from(SEPARATORS)) for _ in parts[1:]]
    out = parts[0]
    for sep, part in zip(seps, parts[1:]):
        out += sep + part
    return out


@st.composite
def destinations(draw) -> str:
    """A URL-shaped string (or, now and then, any text at all)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.text(max_size=80))
    tail = "".join(draw(st.lists(TAIL_PIECES, max_size=12)))
    return (draw(st.sampled_from(SCHEMES)) + draw(st.sampled_from(USERINFO)) + draw(hosts())
            + draw(st.sampled_from(PORTS)) + draw(st.sampled_from(["", "/", "\\", "?", "#"])) + tail)


# The destinations the issue reported, and their closest relatives.
REPORTED = [
    "https://evil.com\\.shop.example.com",
    "https://evil.com\\.shop.example.com/",
    "https://evil.com\uff0f.shop.example.com/",
    "https://evil.com\uff3c.shop.example.com/",
    "https://evil.com%5c.shop.example.com/",
    "https://shop.example.com@evil.com/",
    "https://evil.com#.shop.example.com",
    "https://evil.com?.shop.example.com",
    "https:\\\\evil.com\\.shop.example.com",
    "https://evil.com\t\\.shop.example.com/",
]
