package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Case is one fully expanded grid case (one CSV row, run `reps` times).
type Case struct {
	Name         string
	Kind         string // read | write | authenticate
	Members      int
	Target       string // leader only | follower only | all members
	Consistency  string // l | s (reads only)
	Clients      int
	Conns        int
	KeySize      int
	ValueSize    int
	KeysInRange  int
	Limit        int64
	CountOnly    bool
	WriteRate    float64
	Auth         string // none | password
	AuthToken    string // simple | jwt (password only)
	TokenReuse   int    // 1 | 0 (password only)
	Rate         float64
	ProbeRate    float64
	ProbeTarget  string // leader | follower
	WarmupS      float64
	DurationS    float64
	MemberCPUs   string
	ClientCPUs   string
	GOMAXPROCS   int
	SchedtraceMs int
	// ClientProfile: etcdload writes a Go CPU profile of its window (client.pprof, kept with
	// --keep-logs).
	ClientProfile bool
	MemberFlags  string
	ForceLeader  bool
	Reps         int

	// Results over time and faults (events.go).
	IntervalMs      int
	RequestTimeoutS float64
	Dial            string // pinned | balanced
	FillKeys        int
	FillValueBytes  int
	FillRevisions   int
	Events          []Event
}

// keyOrder is the order of the grid keys, which is also the order in which the values of
// list-valued keys are appended to an expanded case's name.
var keyOrder = []string{
	"name", "kind", "members", "target", "consistency", "clients", "conns", "max_conns",
	"key_size_bytes", "value_size_bytes", "keys_in_range", "limit", "count_only", "write_rate",
	"auth", "auth_token", "token_reuse", "rate", "probe_rate", "probe_target", "warmup_s",
	"duration_s", "member_cpus", "client_cpus", "gomaxprocs", "schedtrace_ms", "client_profile", "member_flags",
	"leader", "reps", "dial", "request_timeout_s", "interval_ms", "fill_keys",
	"fill_value_bytes", "fill_revisions", "events",
}

var keyHelp = map[string]string{
	"name":              "case name (a string; required)",
	"kind":              `"read", "write" or "authenticate"`,
	"members":           "cluster size: 1, 3 or 5 (any n >= 1 works)",
	"target":            `"leader only", "follower only" or "all members"`,
	"consistency":       `"l" or "s" (or "linearizable", "serializable")`,
	"clients":           "closed-loop client goroutines (0: only the probe and background puts)",
	"conns":             "clientv3 connections (default min(clients, max_conns))",
	"max_conns":         "cap on the default conns (default 16)",
	"key_size_bytes":    "key size (default 8)",
	"value_size_bytes":  "value size (default 256)",
	"keys_in_range":     "keys a range returns (default 1: a single-key get)",
	"limit":             "range limit (0 = none)",
	"count_only":        "range with count only (true/false)",
	"write_rate":        "background puts per second (0 = none)",
	"auth":              `"none" or "password"`,
	"auth_token":        `"simple" or "jwt"`,
	"token_reuse":       "1 (token reused) or 0 (Authenticate before every request)",
	"rate":              "rate limit of the closed loop in requests/s (0 = none)",
	"probe_rate":        "probe reads per second (0 = none)",
	"probe_target":      `"leader" or "follower"`,
	"warmup_s":          "warm-up seconds",
	"duration_s":        "measured seconds",
	"member_cpus":       `taskset CPU list for the members, e.g. "0-1"`,
	"client_cpus":       `taskset CPU list for the load generator`,
	"gomaxprocs":        "GOMAXPROCS of members and load generator (0 = Go's default)",
	"schedtrace_ms":     "GODEBUG=schedtrace period of the members (0 = off; default 100)",
	"client_profile":    "true: a Go CPU profile of the load generator over each repetition's window, kept as <case>-rep<N>-client.pprof (needs --keep-logs)",
	"member_flags":      "extra etcd flags, one string",
	"leader":            `0 (move leadership to member 0 before the run; default) or "any"`,
	"reps":              "repetitions (the command line's --reps wins)",
	"dial":              `"pinned" (connection j dials member j mod n only; default) or "balanced" (every connection dials every member: clientv3's round-robin balancer)`,
	"request_timeout_s": "per-request client timeout in seconds (0 = none, the default)",
	"interval_ms":       "results over time: interval length in ms (default 100 with events, else 0 = none)",
	"fill_keys":         "unmeasured filler keys put before the run (default 0)",
	"fill_value_bytes":  "value size of the filler keys (default 1024)",
	"fill_revisions":    "times every filler key is written (default 1)",
	"events":            `the fault timeline: a list of tables such as { at_s = 2.0, kind = "kill", member = "leader", restart_after_s = 3.0 } (harness/README.md)`,
}

type gridFile struct {
	Defaults map[string]interface{}   `toml:"defaults"`
	Case     []map[string]interface{} `toml:"case"`
}

func loadGrid(path string) ([]Case, error) {
	var g gridFile
	md, err := toml.DecodeFile(path, &g)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, k := range md.Undecoded() {
		if ks := k.String(); strings.HasPrefix(ks, "case.events.") || strings.HasPrefix(ks, "defaults.events.") {
			continue // the tables of an events list (parseEvents checks their keys)
		}
		return nil, fmt.Errorf("%s: unknown table or key %q (a grid has [defaults] and [[case]])", path, k.String())
	}
	if len(g.Case) == 0 {
		return nil, fmt.Errorf("%s: no [[case]] tables", path)
	}
	var out []Case
	seen := map[string]bool{}
	for i, c := range g.Case {
		where := fmt.Sprintf("%s: [[case]] #%d", path, i+1)
		if n, ok := c["name"].(string); ok {
			where = fmt.Sprintf("%s: case %q", path, n)
		}
		m := map[string]interface{}{}
		for k, v := range g.Defaults {
			m[k] = v
		}
		for k, v := range c {
			m[k] = v
		}
		for k := range m {
			if _, ok := keyHelp[k]; !ok {
				return nil, fmt.Errorf("%s: unknown key %q%s", where, k, suggest(k))
			}
		}
		if _, ok := c["name"]; !ok {
			return nil, fmt.Errorf("%s: missing key \"name\"", where)
		}
		if _, ok := m["name"].(string); !ok {
			return nil, fmt.Errorf("%s: \"name\" must be a string", where)
		}
		points, err := expand(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		for _, p := range points {
			cs, err := toCase(p.values, p.suffix)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			if seen[cs.Name] {
				return nil, fmt.Errorf("%s: expanded case name %q is used twice", where, cs.Name)
			}
			seen[cs.Name] = true
			out = append(out, cs)
		}
	}
	return out, nil
}

func suggest(k string) string {
	best, bd := "", 1<<30
	for _, c := range keyOrder {
		if d := editDistance(k, c); d < bd {
			best, bd = c, d
		}
	}
	if bd <= 3 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	keys := append([]string(nil), keyOrder...)
	return " (valid keys: " + strings.Join(keys, ", ") + ")"
}

func editDistance(a, b string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[j] = min3(d[j]+1, d[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return d[len(b)]
}

func min3(a, b, c int) int {
	if b < a {
		a = b
	}
	if c < a {
		a = c
	}
	return a
}

type point struct {
	values map[string]interface{}
	suffix []string
}

// expand turns every list-valued key into the cartesian product of its values, in keyOrder.
func expand(m map[string]interface{}) ([]point, error) {
	pts := []point{{values: map[string]interface{}{}}}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	idx := map[string]int{}
	for i, k := range keyOrder {
		idx[k] = i
	}
	sort.Slice(keys, func(i, j int) bool { return idx[keys[i]] < idx[keys[j]] })
	for _, k := range keys {
		v := m[k]
		list, isList := v.([]interface{})
		if !isList {
			for i := range pts {
				pts[i].values[k] = v
			}
			continue
		}
		if k == "name" {
			return nil, fmt.Errorf("\"name\" cannot be a list")
		}
		if k == "events" {
			// One timeline, not a list of alternatives.
			for i := range pts {
				pts[i].values[k] = v
			}
			continue
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("key %q is an empty list", k)
		}
		var next []point
		for _, p := range pts {
			for _, lv := range list {
				if _, nested := lv.([]interface{}); nested {
					return nil, fmt.Errorf("key %q: nested lists are not allowed", k)
				}
				q := point{values: map[string]interface{}{}, suffix: append(append([]string(nil), p.suffix...), suffixOf(k, lv))}
				for kk, vv := range p.values {
					q.values[kk] = vv
				}
				q.values[k] = lv
				next = append(next, q)
			}
		}
		pts = next
	}
	return pts, nil
}

func suffixOf(k string, v interface{}) string {
	s := fmt.Sprint(v)
	switch k {
	case "consistency":
		return s[:1]
	case "clients":
		return "c" + s
	case "conns":
		return "n" + s
	case "max_conns":
		return "maxn" + s
	case "members":
		return "m" + s
	case "write_rate":
		return "w" + s
	case "value_size_bytes":
		return "v" + sizeName(v)
	case "key_size_bytes":
		return "ks" + s
	case "keys_in_range":
		return "k" + s
	case "limit":
		return "lim" + s
	case "count_only":
		if s == "true" {
			return "count"
		}
		return "nocount"
	case "target":
		return strings.Fields(s)[0]
	case "token_reuse":
		if s == "0" {
			return "noreuse"
		}
		return "reuse"
	case "rate":
		return "r" + s
	case "probe_rate":
		return "p" + s
	case "probe_target":
		return "probe" + s
	case "gomaxprocs":
		return "g" + s
	case "member_cpus":
		return "mcpu" + s
	case "client_cpus":
		return "ccpu" + s
	case "schedtrace_ms":
		return "st" + s
	case "client_profile":
		if s == "true" {
			return "cprof"
		}
		return "nocprof"
	case "warmup_s":
		return "wu" + s
	case "duration_s":
		return "d" + s
	case "member_flags":
		return strings.Trim(strings.NewReplacer("--", "", "=", "", " ", "_").Replace(s), "_")
	case "request_timeout_s":
		if s == "0" {
			return "tonone"
		}
		return "to" + s
	case "interval_ms":
		return "i" + s
	case "fill_keys":
		return "fill" + s
	case "fill_value_bytes":
		return "fillv" + sizeName(v)
	case "fill_revisions":
		return "fillrev" + s
	}
	return strings.NewReplacer(" ", "").Replace(s)
}

func sizeName(v interface{}) string {
	n, ok := v.(int64)
	if !ok {
		return fmt.Sprint(v)
	}
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "m"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

func toCase(m map[string]interface{}, suffix []string) (Case, error) {
	c := Case{
		Kind: "read", Members: 1, Target: "all members", Consistency: "l", Clients: 1,
		KeySize: 8, ValueSize: 256, KeysInRange: 1, Auth: "none", AuthToken: "simple",
		TokenReuse: 1, WarmupS: 1, DurationS: 3, SchedtraceMs: 100, ForceLeader: true,
	}
	var err error
	str := func(k string, dst *string) {
		if v, ok := m[k]; ok && err == nil {
			s, ok := v.(string)
			if !ok {
				err = fmt.Errorf("key %q must be a string: %s", k, keyHelp[k])
				return
			}
			*dst = s
		}
	}
	integer := func(k string, dst *int64) {
		if v, ok := m[k]; ok && err == nil {
			n, ok := v.(int64)
			if !ok {
				err = fmt.Errorf("key %q must be an integer: %s", k, keyHelp[k])
				return
			}
			*dst = n
		}
	}
	num := func(k string, dst *float64) {
		if v, ok := m[k]; ok && err == nil {
			switch n := v.(type) {
			case int64:
				*dst = float64(n)
			case float64:
				*dst = n
			default:
				err = fmt.Errorf("key %q must be a number: %s", k, keyHelp[k])
			}
		}
	}
	i := func(k string, dst *int) {
		n := int64(*dst)
		integer(k, &n)
		*dst = int(n)
	}
	str("name", &c.Name)
	str("kind", &c.Kind)
	i("members", &c.Members)
	str("target", &c.Target)
	str("consistency", &c.Consistency)
	i("clients", &c.Clients)
	maxConns := 16
	i("max_conns", &maxConns)
	c.Conns = 0
	i("conns", &c.Conns)
	i("key_size_bytes", &c.KeySize)
	i("value_size_bytes", &c.ValueSize)
	i("keys_in_range", &c.KeysInRange)
	integer("limit", &c.Limit)
	if v, ok := m["count_only"]; ok && err == nil {
		b, ok := v.(bool)
		if !ok {
			err = fmt.Errorf("key \"count_only\" must be true or false")
		}
		c.CountOnly = b
	}
	if v, ok := m["client_profile"]; ok && err == nil {
		b, ok := v.(bool)
		if !ok {
			err = fmt.Errorf("key \"client_profile\" must be true or false")
		}
		c.ClientProfile = b
	}
	num("write_rate", &c.WriteRate)
	str("auth", &c.Auth)
	str("auth_token", &c.AuthToken)
	i("token_reuse", &c.TokenReuse)
	num("rate", &c.Rate)
	num("probe_rate", &c.ProbeRate)
	str("probe_target", &c.ProbeTarget)
	num("warmup_s", &c.WarmupS)
	num("duration_s", &c.DurationS)
	str("member_cpus", &c.MemberCPUs)
	str("client_cpus", &c.ClientCPUs)
	i("gomaxprocs", &c.GOMAXPROCS)
	i("schedtrace_ms", &c.SchedtraceMs)
	str("member_flags", &c.MemberFlags)
	i("reps", &c.Reps)
	c.Dial = "pinned"
	str("dial", &c.Dial)
	num("request_timeout_s", &c.RequestTimeoutS)
	c.IntervalMs = -1
	i("interval_ms", &c.IntervalMs)
	i("fill_keys", &c.FillKeys)
	c.FillValueBytes = 1024
	i("fill_value_bytes", &c.FillValueBytes)
	c.FillRevisions = 1
	i("fill_revisions", &c.FillRevisions)
	if v, ok := m["events"]; ok && err == nil {
		c.Events, err = parseEvents(v)
	}
	if v, ok := m["leader"]; ok && err == nil {
		switch x := v.(type) {
		case int64:
			if x != 0 {
				err = fmt.Errorf("key \"leader\" must be 0 or \"any\"")
			}
		case string:
			if x != "any" {
				err = fmt.Errorf("key \"leader\" must be 0 or \"any\"")
			}
			c.ForceLeader = false
		default:
			err = fmt.Errorf("key \"leader\" must be 0 or \"any\"")
		}
	}
	if err != nil {
		return c, err
	}
	if len(suffix) > 0 {
		c.Name += "-" + strings.Join(suffix, "-")
	}
	if c.Conns == 0 {
		c.Conns = c.Clients
		if c.Conns > maxConns {
			c.Conns = maxConns
		}
		if c.Conns < 1 {
			c.Conns = 1 // clients = 0: the connection the background puts use
		}
	}
	switch c.Consistency {
	case "linearizable":
		c.Consistency = "l"
	case "serializable":
		c.Consistency = "s"
	}
	if c.IntervalMs < 0 {
		c.IntervalMs = 0
		if len(c.Events) > 0 {
			c.IntervalMs = 100
		}
	}
	if c.ProbeTarget == "" {
		c.ProbeTarget = "follower"
		if c.Members == 1 {
			c.ProbeTarget = "leader"
		}
	}
	return c, c.validate()
}

func (c *Case) validate() error {
	in := func(v string, vs ...string) bool {
		for _, x := range vs {
			if v == x {
				return true
			}
		}
		return false
	}
	switch {
	case !in(c.Kind, "read", "write", "authenticate"):
		return fmt.Errorf("%s: kind must be read, write or authenticate, not %q", c.Name, c.Kind)
	case c.Members < 1:
		return fmt.Errorf("%s: members must be at least 1", c.Name)
	case !in(c.Target, "leader only", "follower only", "all members"):
		return fmt.Errorf("%s: target must be \"leader only\", \"follower only\" or \"all members\", not %q", c.Name, c.Target)
	case c.Target == "follower only" && c.Members < 2:
		return fmt.Errorf("%s: target \"follower only\" needs at least 2 members", c.Name)
	case !in(c.Consistency, "l", "s"):
		return fmt.Errorf("%s: consistency must be l or s, not %q", c.Name, c.Consistency)
	case c.Clients < 0 || c.Conns < 1:
		return fmt.Errorf("%s: clients must not be negative and conns must be at least 1", c.Name)
	case c.Clients == 0 && c.ProbeRate <= 0 && c.WriteRate <= 0:
		return fmt.Errorf("%s: clients = 0 needs probe_rate or write_rate", c.Name)
	case c.KeySize < 3:
		return fmt.Errorf("%s: key_size_bytes must be at least 3", c.Name)
	case c.ValueSize < 0 || c.KeysInRange < 1 || c.Limit < 0:
		return fmt.Errorf("%s: value_size_bytes, keys_in_range or limit out of range", c.Name)
	case !in(c.Auth, "none", "password"):
		return fmt.Errorf("%s: auth must be none or password, not %q", c.Name, c.Auth)
	case !in(c.AuthToken, "simple", "jwt"):
		return fmt.Errorf("%s: auth_token must be simple or jwt, not %q", c.Name, c.AuthToken)
	case c.TokenReuse != 0 && c.TokenReuse != 1:
		return fmt.Errorf("%s: token_reuse must be 1 or 0", c.Name)
	case c.Auth == "none" && c.TokenReuse == 0:
		return fmt.Errorf("%s: token_reuse = 0 needs auth = \"password\"", c.Name)
	case c.Kind == "authenticate" && c.Auth != "password":
		return fmt.Errorf("%s: kind authenticate needs auth = \"password\"", c.Name)
	case !in(c.ProbeTarget, "leader", "follower"):
		return fmt.Errorf("%s: probe_target must be leader or follower", c.Name)
	case c.ProbeTarget == "follower" && c.Members < 2 && c.ProbeRate > 0:
		return fmt.Errorf("%s: probe_target follower needs at least 2 members", c.Name)
	case c.DurationS <= 0 || c.WarmupS < 0:
		return fmt.Errorf("%s: duration_s must be positive and warmup_s not negative", c.Name)
	case c.WriteRate < 0 || c.Rate < 0 || c.ProbeRate < 0:
		return fmt.Errorf("%s: rates must not be negative", c.Name)
	case c.SchedtraceMs < 0 || c.GOMAXPROCS < 0 || c.Reps < 0:
		return fmt.Errorf("%s: schedtrace_ms, gomaxprocs and reps must not be negative", c.Name)
	case !in(c.Dial, "pinned", "balanced"):
		return fmt.Errorf("%s: dial must be \"pinned\" or \"balanced\", not %q", c.Name, c.Dial)
	case c.RequestTimeoutS < 0:
		return fmt.Errorf("%s: request_timeout_s must not be negative", c.Name)
	case c.IntervalMs < 0 || (c.IntervalMs > 0 && float64(c.IntervalMs)/1000 > c.DurationS):
		return fmt.Errorf("%s: interval_ms must be between 0 and the window (duration_s)", c.Name)
	case c.FillKeys < 0 || c.FillValueBytes < 0 || c.FillRevisions < 1:
		return fmt.Errorf("%s: fill_keys and fill_value_bytes must not be negative, fill_revisions at least 1", c.Name)
	case len(c.Events) > 0 && c.IntervalMs == 0:
		return fmt.Errorf("%s: events need interval_ms > 0 (the results over time)", c.Name)
	}
	for i := range c.Events {
		if err := c.Events[i].check(c); err != nil {
			return fmt.Errorf("%s: events[%d] (%s at %gs): %v", c.Name, i, c.Events[i].Kind, c.Events[i].AtS, err)
		}
	}
	return nil
}
