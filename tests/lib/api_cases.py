# SPDX-License-Identifier: MIT
"""The REST API cases of tests/e2e_api.sh, run inside wgdp's namespace.

    api_cases.py BASE TOKEN_FILE OPENAPI COUNTERS_H SERVER_PUB SERVER_PRIV C1_PUB OUTDIR

Prints one `PASS api/<case>` or `FAIL api/<case>: reason` line per case.
Every error case checks that nothing changed: the interface and the peer
list (configuration fields) are compared before and after.
Writes OUTDIR/generated.conf (a server-generated client's wg-quick file)
and OUTDIR/generated.pub for the shell part.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgdp_api import Api, genkey, url_key  # noqa: E402

BASE, TOKEN_FILE, OPENAPI, COUNTERS_H, SERVER_PUB, SERVER_PRIV, C1_PUB, OUTDIR = sys.argv[1:9]
TOKEN = open(TOKEN_FILE).read().strip()
api = Api(BASE, TOKEN)
spec = json.load(open(OPENAPI))
failed = False
LIVE = {"current_endpoint", "latest_handshake", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets"}


def report(name, ok, detail=""):
    global failed
    if ok:
        print("PASS api/%s%s" % (name, " (%s)" % detail if detail else ""))
    else:
        failed = True
        print("FAIL api/%s: %s" % (name, detail))
    sys.stdout.flush()


def pubkey(priv):
    return subprocess.run(["wg", "pubkey"], input=priv + "\n", capture_output=True, text=True,
                          check=True).stdout.strip()


def state():
    """The configuration as the API shows it (no live figures)."""
    s1, iface, _ = api.call("GET", "/api/v1/interface")
    s2, peers, _ = api.call("GET", "/api/v1/peers")
    assert s1 == 200 and s2 == 200, (s1, s2)
    plist = sorted(({k: v for k, v in p.items() if k not in LIVE} for p in peers["peers"]),
                   key=lambda p: p["public_key"])
    return json.dumps([iface, plist], sort_keys=True)


def expect_error(name, method, path, obj, status, code, raw=None, headers=None, token=True):
    before = state()
    if raw is not None:
        st, data, _ = api.raw(method, path, raw, headers or {"Content-Type": "application/json"}, token)
        try:
            body = json.loads(data)
        except ValueError:
            body = None
    else:
        st, body, _ = api.call(method, path, obj, token=token, headers=headers)
    after = state()
    err = body.get("error", {}) if isinstance(body, dict) else {}
    ok = st == status and err.get("code") == code and isinstance(err.get("message"), str) and before == after
    report(name, ok, "%d %s: %s" % (st, err.get("code"), err.get("message", ""))[:160] if ok else
           "got %s %s (want %d %s), unchanged=%s: %s" % (st, err.get("code"), status, code, before == after,
                                                          str(body)[:300]))


def schema(name):
    return spec["components"]["schemas"][name]


def check_schema(case, obj, name):
    """obj's keys are the schema's properties (all present: the API always writes every field)."""
    props = set(schema(name).get("properties", {}))
    keys = set(obj)
    ok = keys == props
    report(case, ok, "%d fields" % len(keys) if ok else "extra %s, missing %s" % (sorted(keys - props),
                                                                                   sorted(props - keys)))


# ---- routes, authentication -----------------------------------------------------

st, idx, _ = api.call("GET", "/api/v1")
served = {(r["path"], m) for r in idx["routes"] for m in r["methods"]}
documented = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops
              if m in ("get", "post", "patch", "delete", "put")}
report("openapi_routes", st == 200 and served == documented,
       "%d path/method pairs" % len(served) if served == documented else
       "served only %s, documented only %s" % (sorted(served - documented), sorted(documented - served)))

st, h, _ = api.call("GET", "/api/v1/health", token=False)
report("health_public", st == 200 and h.get("status") == "ok" and h.get("persistent") is True, str(h))
check_schema("health_schema", h, "Health")

probe_key = url_key(C1_PUB)
concrete = lambda p: p.replace("{public_key}", probe_key)  # noqa: E731
auth_ok = True
for r in idx["routes"]:
    if not r["authenticated"]:
        continue
    for how, tok in (("no token", False), ("wrong token", "Bearer " + "x" * len(TOKEN)),
                     ("basic auth", "Basic " + TOKEN), ("token prefix", "Bearer " + TOKEN[:-1])):
        st, body, hd = api.call("GET" if "GET" in r["methods"] else r["methods"][0], concrete(r["path"]),
                                token=tok)
        if st != 401 or "bearer" not in hd.get("www-authenticate", "").lower() or \
                body["error"]["code"] != "unauthorized":
            auth_ok = False
            print("  %s %s with %s: %s" % (r["methods"], r["path"], how, st), file=sys.stderr)
report("auth_required", auth_ok, "every authenticated route refuses 4 bad credentials with 401")

allow_ok = True
for path, ops in spec["paths"].items():
    methods = {m.upper() for m in ops if m in ("get", "post", "patch", "delete", "put")}
    for m in {"GET", "POST", "PATCH", "DELETE", "PUT"} - methods:
        st, body, hd = api.call(m, concrete(path), {} if m in ("POST", "PATCH", "PUT") else None)
        allow = {x.strip() for x in hd.get("allow", "").split(",") if x.strip()}
        if st != 405 or allow != methods:
            allow_ok = False
            print("  %s %s: %s allow=%s" % (m, path, st, allow), file=sys.stderr)
report("method_not_allowed", allow_ok, "405 with an Allow header matching the spec on every path")

expect_error("not_found", "GET", "/api/v1/nothing", None, 404, "not_found")
expect_error("bad_key_in_path", "GET", "/api/v1/peers/" + "A" * 43 + "!", None, 400, "invalid_key")
expect_error("unknown_peer", "GET", "/api/v1/peers/" + url_key(pubkey(genkey())), None, 404, "not_found")

# ---- interface ---------------------------------------------------------------------

st, iface, _ = api.call("GET", "/api/v1/interface")
report("interface_get", st == 200 and iface["public_key"] == SERVER_PUB and "private_key" not in iface and
       iface["address_pools"] == ["10.77.0.0/29", "fd00:77::/125"], str(iface)[:200])
check_schema("interface_schema", iface, "Interface")
port = iface["listen_port"]

# ---- create ------------------------------------------------------------------------------

k1 = pubkey(genkey())
st, p1, hd = api.call("POST", "/api/v1/peers", {"public_key": k1, "name": "alice", "allowed_ips": ["10.99.0.0/24"]})
report("create_client_key", st == 201 and p1["public_key"] == k1 and p1["addresses"] == ["10.77.0.2/32", "fd00:77::2/128"]
       and set(p1["allowed_ips"]) == {"10.77.0.2/32", "fd00:77::2/128", "10.99.0.0/24"} and
       p1["server_generated_key"] is False and p1["enabled"] is True,
       "addresses %s" % p1.get("addresses") if st == 201 else str(p1))
check_schema("peer_schema", p1, "Peer")
st, again, _ = api.call("GET", hd.get("location", "/none"))
report("create_location", st == 200 and again["public_key"] == k1, hd.get("location", ""))
st, same, _ = api.call("GET", "/api/v1/peers/" + k1.replace("/", "%2F"))
report("key_percent_encoded", st == 200 and same["public_key"] == k1)

st, gen, _ = api.call("POST", "/api/v1/peers", {"name": "generated", "preshared_key": "generate"})
ok = st == 201 and gen["server_generated_key"] is True and gen["has_preshared_key"] is True
conf = ""
if ok:
    st, conf, hd = api.call("GET", "/api/v1/peers/%s/config" % url_key(gen["public_key"]))
    m = re.search(r"^PrivateKey = (\S+)$", conf or "", re.M)
    ok = st == 200 and hd["content-type"].startswith("text/plain") and m and pubkey(m.group(1)) == gen["public_key"] \
        and ("PublicKey = %s" % SERVER_PUB) in conf and "PresharedKey = " in conf and \
        "Address = 10.77.0.3/32, fd00:77::3/128" in conf and ("Endpoint = 192.0.2.1:%d" % port) in conf
    open(os.path.join(OUTDIR, "generated.conf"), "w").write(conf)
    open(os.path.join(OUTDIR, "generated.pub"), "w").write(gen["public_key"])
report("create_server_keypair", ok, "config with a private key whose public key is the peer's" if ok else str(conf)[:300])
st, c1conf, _ = api.call("GET", "/api/v1/peers/%s/config" % url_key(k1))
report("config_without_private_key", st == 200 and "PrivateKey = " not in c1conf.replace("# PrivateKey", ""),
       "a client-supplied key's config holds no private key")
st, qconf, _ = api.call("GET", "/api/v1/peers/%s/config?endpoint=vpn.example.net:443&allowed_ips=0.0.0.0/0,::/0"
                        "&persistent_keepalive=25" % url_key(k1))
report("config_parameters", st == 200 and "Endpoint = vpn.example.net:443" in qconf and
       "AllowedIPs = 0.0.0.0/0, ::/0" in qconf and "PersistentKeepalive = 25" in qconf)
expect_error("config_bad_parameter", "GET", "/api/v1/peers/%s/config?allowed_ips=10.0.0.1/8" % url_key(k1), None,
             400, "invalid_cidr")

# ---- bad requests change nothing ------------------------------------------------------------

P = "/api/v1/peers"
fresh = lambda: pubkey(genkey())  # noqa: E731
expect_error("bad_json", "POST", P, None, 400, "invalid_json", raw=b'{"public_key": ')
expect_error("json_not_object", "POST", P, None, 400, "invalid_json", raw=b'["a"]')
expect_error("duplicate_member", "POST", P, None, 400, "invalid_json", raw=b'{"name": "a", "name": "b"}')
expect_error("unknown_field", "POST", P, {"public_key": fresh(), "allowed_ip": ["10.1.0.0/24"]}, 400, "unknown_field")
expect_error("read_only_field", "POST", P, {"public_key": fresh(), "rx_bytes": 5}, 400, "read_only_field")
expect_error("bad_key", "POST", P, {"public_key": "abc"}, 400, "invalid_key")
expect_error("bad_key_length", "POST", P, {"public_key": "AAAA" * 10}, 400, "invalid_key")
expect_error("bad_cidr_host_bits", "POST", P, {"public_key": fresh(), "allowed_ips": ["10.1.0.1/24"]}, 400, "invalid_cidr")
expect_error("bad_cidr_length", "POST", P, {"public_key": fresh(), "allowed_ips": ["10.1.0.0/33"]}, 400, "invalid_cidr")
expect_error("bad_cidr_text", "POST", P, {"public_key": fresh(), "allowed_ips": ["ten/8"]}, 400, "invalid_cidr")
expect_error("bad_address", "POST", P, {"public_key": fresh(), "addresses": ["10.77.0.0/30"]}, 400, "invalid_cidr")
expect_error("bad_endpoint", "POST", P, {"public_key": fresh(), "endpoint": "example.com:51820"}, 400, "invalid_value")
expect_error("bad_keepalive", "POST", P, {"public_key": fresh(), "persistent_keepalive": 70000}, 400, "invalid_value")
expect_error("bad_type", "POST", P, {"public_key": fresh(), "enabled": "yes"}, 400, "invalid_value")
expect_error("own_public_key", "POST", P, {"public_key": SERVER_PUB, "addresses": []}, 400, "invalid_value")
expect_error("duplicate_peer", "POST", P, {"public_key": k1}, 409, "peer_exists")
expect_error("allowed_ip_held", "POST", P, {"public_key": fresh(), "allowed_ips": ["10.99.0.0/24"]}, 409, "address_in_use")
expect_error("address_taken", "POST", P, {"public_key": fresh(), "addresses": ["10.77.0.2"]}, 409, "address_in_use")
expect_error("address_own", "POST", P, {"public_key": fresh(), "addresses": ["10.77.0.1"]}, 409, "address_in_use")
expect_error("body_too_large", "POST", P, None, 413, "body_too_large",
             raw=json.dumps({"name": "x" * (2 << 20)}).encode())
expect_error("wrong_media_type", "POST", P, None, 415, "unsupported_media_type", raw=b"name=a",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
expect_error("patch_public_key", "PATCH", P + "/" + url_key(k1), {"public_key": fresh()}, 400, "read_only_field")
expect_error("patch_unknown_peer", "PATCH", P + "/" + url_key(fresh()), {"name": "x"}, 404, "not_found")
expect_error("delete_unknown_peer", "DELETE", P + "/" + url_key(fresh()), None, 404, "not_found")
expect_error("patch_endpoint_null", "PATCH", P + "/" + url_key(k1), {"endpoint": None}, 400, "invalid_value")
expect_error("bad_limit", "GET", P + "?limit=abc", None, 400, "invalid_value")
expect_error("interface_read_only", "PATCH", "/api/v1/interface", {"public_key": SERVER_PUB}, 400, "read_only_field")
expect_error("interface_bad_port", "PATCH", "/api/v1/interface", {"listen_port": 65536}, 400, "invalid_value")
expect_error("interface_bad_pool", "PATCH", "/api/v1/interface", {"address_pools": ["10.1.0.0/31"]}, 400, "invalid_value")
expect_error("interface_unknown", "PATCH", "/api/v1/interface", {"mtu2": 1}, 400, "unknown_field")
expect_error("interface_address_bad", "PATCH", "/api/v1/interface", {"addresses": ["224.0.0.1/4"]}, 400, "invalid_cidr")

# ---- pools: allocate, exhaust, release -----------------------------------------------------------

created = []
for i in range(3):  # .4 .5 .6: the /29 then has no free address (.1 is the interface's)
    st, p, _ = api.call("POST", P, {"public_key": fresh()})
    created.append(p)
report("pool_allocation", [p["addresses"][0] for p in created] == ["10.77.0.4/32", "10.77.0.5/32", "10.77.0.6/32"],
       str([p.get("addresses") for p in created]))
st, iface, _ = api.call("GET", "/api/v1/interface")
usage = {u["prefix"]: u["used"] for u in iface["address_pool_usage"]}
expect_error("pool_exhausted", "POST", P, {"public_key": fresh()}, 409, "pool_exhausted")
st, iface2, _ = api.call("GET", "/api/v1/interface")
report("pool_exhausted_takes_nothing", iface2["address_pool_usage"] == iface["address_pool_usage"], str(usage))
st, p_noaddr, _ = api.call("POST", P, {"public_key": fresh(), "addresses": [], "allowed_ips": ["10.98.0.0/24"]})
report("create_without_addresses", st == 201 and p_noaddr["addresses"] == [] and p_noaddr["allowed_ips"] == ["10.98.0.0/24"])
st, _, _ = api.call("DELETE", P + "/" + url_key(created[1]["public_key"]))
st2, _, _ = api.call("GET", P + "/" + url_key(created[1]["public_key"]))
st3, reuse, _ = api.call("POST", P, {"public_key": fresh()})
report("delete_releases_address", st == 204 and st2 == 404 and st3 == 201 and reuse["addresses"][0] == "10.77.0.5/32",
       "deleted, 404 after, 10.77.0.5 handed out again")

# ---- patch ---------------------------------------------------------------------------------------------

u = P + "/" + url_key(k1)
st, p, _ = api.call("PATCH", u, {"name": "alice2", "persistent_keepalive": 25, "allowed_ips": ["10.99.1.0/24"],
                                 "endpoint": "192.0.2.77:4000"})
report("patch_fields", st == 200 and p["name"] == "alice2" and p["persistent_keepalive"] == 25 and
       p["endpoint"] == "192.0.2.77:4000" and
       set(p["allowed_ips"]) == {"10.99.1.0/24", "10.77.0.2/32", "fd00:77::2/128"}, str(p)[:300])
st, p, _ = api.call("POST", P, {"public_key": fresh(), "addresses": [], "allowed_ips": ["10.99.0.0/24"]})
report("released_allowed_ip_reusable", st == 201, "10.99.0.0/24 given up by the patch is free again")
st, p, _ = api.call("PATCH", u, {"addresses": ["10.78.0.7", "fd00:77::7"]})
st2, iface3, _ = api.call("GET", "/api/v1/interface")
report("patch_addresses", st == 200 and set(p["addresses"]) == {"10.78.0.7/32", "fd00:77::7/128"} and
       "10.77.0.2/32" not in p["allowed_ips"] and "10.78.0.7/32" in p["allowed_ips"], str(p.get("addresses")))
st, p, _ = api.call("PATCH", u, {"enabled": False})
st2, m, _ = api.call("GET", "/metrics")
report("disable", st == 200 and p["enabled"] is False and
       ('wgdp_peer_enabled{public_key="%s"} 0' % k1) in m, "enabled false, metrics peer_enabled 0")
api.call("PATCH", u, {"enabled": True})

# ---- lists, stats, metrics -------------------------------------------------------------------------------

st, all_, _ = api.call("GET", P)
st2, page, _ = api.call("GET", P + "?offset=1&limit=2")
report("paging", st == 200 and page["total"] == all_["total"] and len(page["peers"]) == 2 and
       [p["public_key"] for p in page["peers"]] == [p["public_key"] for p in all_["peers"][1:3]],
       "%d peers, page of 2 from 1" % all_["total"])
check_schema("peer_list_schema", all_, "PeerList")

drops = re.findall(r'X\(\w+, "(\w+)"\)', open(COUNTERS_H).read())
st, stats, _ = api.call("GET", "/api/v1/stats")
ok = st == 200 and set(stats["total"]["drops"]) == set(drops) and any(l["role"] == "worker" for l in stats["lcores"])
report("stats_every_drop", ok, "%d named drops, %d lcores" % (len(drops), len(stats["lcores"])))
check_schema("stats_schema", stats, "Stats")

st, lc, _ = api.call("GET", "/api/v1/lcores")
report("lcores", st == 200 and lc["workers"] == len(lc["lcores"]) >= 1 and lc["history"][0]["event"] == "start" and
       sum(w["buckets"] for w in lc["lcores"]) == 1024, "%d workers, %d active" % (lc["workers"], lc["active_workers"]))
check_schema("lcores_schema", lc, "Lcores")
bad = [{"min_workers": 0}, {"max_workers": lc["workers"] + 1}, {"min_workers": "1"}, {"autoscale": 1},
       {"cores": 2}, {"min_workers": 2, "max_workers": 1}]
answers = [api.call("PATCH", "/api/v1/lcores", b)[0] for b in bad]
st2, lc2, _ = api.call("GET", "/api/v1/lcores")
same = all(lc2[k] == lc[k] for k in ("min_workers", "max_workers", "autoscale"))
report("lcores_patch_errors", answers == [400] * len(bad) and same, "answers %s, limits unchanged %s" % (answers, same))
st, lc3, _ = api.call("PATCH", "/api/v1/lcores", {"min_workers": 1, "max_workers": lc["workers"], "autoscale": False})
report("lcores_patch", st == 200 and lc3["autoscale"] is False and lc3["max_workers"] == lc["workers"], "autoscale off")
api.call("PATCH", "/api/v1/lcores", {"autoscale": lc["autoscale"]})

st, m, hd = api.call("GET", "/metrics")
types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", m, re.M))
bad = [n for n, t in types.items() if t == "counter" and not n.endswith("_total")]
bad += [n for n in types if not n.startswith("wgdp_")]
reasons = set(re.findall(r'wgdp_drops_total\{lcore="all",role="all",reason="(\w+)"\}', m))
samples = [l for l in m.splitlines() if l and not l.startswith("#")]
malformed = [l for l in samples if not re.match(r'^wgdp_\w+(\{(\w+="[^"]*",?)*\})? \d+$', l)]
report("metrics_format", st == 200 and hd["content-type"].startswith("text/plain") and not bad and not malformed and
       reasons == set(drops) and ('wgdp_peer_receive_bytes_total{public_key="%s"}' % C1_PUB) in m,
       "%d families, %d samples" % (len(types), len(samples)) if not (bad or malformed) else str(bad + malformed[:3]))

def metric(text, name):
    found = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(found.group(1)) if found else None


st, all_, _ = api.call("GET", P + "?limit=1000")
v4 = sum(1 for p in all_["peers"] for a in p["allowed_ips"] if ":" not in a)
v6 = sum(1 for p in all_["peers"] for a in p["allowed_ips"] if ":" in a)
got = {n: metric(m, n) for n in ('wgdp_allowed_ips{family="ipv4"}', 'wgdp_allowed_ips{family="ipv6"}',
                                 'wgdp_slab_objects{slab="peer"}', "wgdp_allowed_ips_v4_trie_slots",
                                 "wgdp_allowed_ips_v4_tables", "wgdp_indices", "wgdp_allowed_ips_bytes")}
report("metrics_tables", got['wgdp_allowed_ips{family="ipv4"}'] == v4 and got['wgdp_allowed_ips{family="ipv6"}'] == v6
       and got['wgdp_slab_objects{slab="peer"}'] == all_["total"] and got["wgdp_allowed_ips_v4_trie_slots"] == 0
       and got["wgdp_allowed_ips_v4_tables"] >= 1 and got["wgdp_indices"] >= 1 and got["wgdp_allowed_ips_bytes"] > 0,
       "%d/%d prefixes, %s" % (v4, v6, got))

# ---- interface changes -------------------------------------------------------------------------------------

st, i1, _ = api.call("PATCH", "/api/v1/interface", {"listen_port": port + 1})
st2, i2, _ = api.call("PATCH", "/api/v1/interface", {"listen_port": port})
report("interface_listen_port", st == 200 and i1["listen_port"] == port + 1 and st2 == 200 and i2["listen_port"] == port)
st, i0, _ = api.call("GET", "/api/v1/interface")
expect_error("interface_address_taken", "PATCH", "/api/v1/interface",
             {"addresses": i0["addresses"] + ["10.77.0.3/29"]}, 409, "address_in_use")
st, i1, _ = api.call("PATCH", "/api/v1/interface", {"addresses": i0["addresses"] + ["10.79.0.1/24", "fd00:79::1/64"]})
tap_has = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True).stdout
ok = st == 200 and i1["addresses"][-2:] == ["10.79.0.1/24", "fd00:79::1/64"] and "10.79.0.1/24" in tap_has and \
    "fd00:79::1/64" in tap_has
st2, i2, _ = api.call("PATCH", "/api/v1/interface", {"addresses": i0["addresses"]})
tap_has = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True).stdout
report("interface_addresses", ok and st2 == 200 and i2["addresses"] == i0["addresses"] and "10.79.0.1" not in tap_has
       and "fd00:79::1" not in tap_has, "added to the TAP and removed again (ip addr)")
st, i1, _ = api.call("PATCH", "/api/v1/interface", {"private_key": "generate"})
st2, i2, _ = api.call("PATCH", "/api/v1/interface", {"private_key": SERVER_PRIV})
report("interface_private_key", st == 200 and i1["public_key"] != SERVER_PUB and "private_key" not in i1 and
       st2 == 200 and i2["public_key"] == SERVER_PUB, "a generated key, then the original back")

sys.exit(1 if failed else 0)
