package main

import (
	"math"
	"strconv"
	"strings"

	"etcdharness"
)

// Header is the CSV header; etcdsim's config code parses these names.
var Header = strings.Split("case,kind,members,leader,target,consistency,clients,conns,requests,warmup_s,duration_s,key_size_bytes,value_size_bytes,keys_in_range,limit,count_only,write_rate,auth,auth_token,token_reuse,member_cpus,client_cpus,gomaxprocs,rate,reps,qps,qps_min,qps_max,latency_ms_mean,latency_ms_mean_min,latency_ms_mean_max,latency_ms_p50,latency_ms_p90,latency_ms_p99,latency_ms_p999,errors,write_qps,write_latency_ms_mean,probe_l_ms_mean,probe_l_ms_p99,probe_s_ms_mean,probe_s_ms_p99,leader_cpu_us_per_req,follower_cpu_us_per_req,client_cpu_us_per_req,member_gc_per_s,client_gc_per_s,member_runq_global_mean,member_runq_local_mean,wal_fsync_ms_mean,backend_commit_ms_mean,peer_rtt_ms_mean,server_rss_mb", ",")

// decimals per measured column.
var decimals = map[string]int{
	"requests": 0, "qps": 1, "qps_min": 1, "qps_max": 1, "errors": 0, "write_qps": 1,
	"leader_cpu_us_per_req": 1, "follower_cpu_us_per_req": 1, "client_cpu_us_per_req": 1,
	"member_gc_per_s": 2, "client_gc_per_s": 2, "member_runq_global_mean": 3,
	"member_runq_local_mean": 3, "server_rss_mb": 1,
}

func formatValue(col string, x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	d, ok := decimals[col]
	if !ok {
		d = 4 // milliseconds
	}
	return strconv.FormatFloat(x, 'f', d, 64)
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.Replace(s, `"`, `""`, -1) + `"`
	}
	return s
}

// row aggregates the repetitions of a case: the median throughput with its min and max, the
// median mean latency with its min and max, and the median of everything else.
func row(c *Case, reps []*repResult) string {
	cell := map[string]string{}
	cell["case"] = c.Name
	cell["kind"] = c.Kind
	cell["members"] = strconv.Itoa(c.Members)
	cell["target"] = c.Target
	if c.Kind == "read" {
		cell["consistency"] = map[string]string{"l": "linearizable", "s": "serializable"}[c.Consistency]
		cell["keys_in_range"] = strconv.Itoa(c.KeysInRange)
		if c.Limit > 0 {
			cell["limit"] = strconv.FormatInt(c.Limit, 10)
		}
		cell["count_only"] = strconv.FormatBool(c.CountOnly)
	}
	cell["clients"] = strconv.Itoa(c.Clients)
	cell["conns"] = strconv.Itoa(c.Conns)
	cell["warmup_s"] = fmtNum(c.WarmupS)
	cell["duration_s"] = fmtNum(c.DurationS)
	cell["key_size_bytes"] = strconv.Itoa(c.KeySize)
	if c.Kind != "authenticate" {
		cell["value_size_bytes"] = strconv.Itoa(c.ValueSize)
	}
	cell["write_rate"] = fmtNum(c.WriteRate)
	cell["auth"] = c.Auth
	if c.Auth == "password" {
		cell["auth_token"] = c.AuthToken
		cell["token_reuse"] = strconv.Itoa(c.TokenReuse)
	}
	cell["member_cpus"] = c.MemberCPUs
	cell["client_cpus"] = c.ClientCPUs
	if c.GOMAXPROCS > 0 {
		cell["gomaxprocs"] = strconv.Itoa(c.GOMAXPROCS)
	}
	if c.Rate > 0 {
		cell["rate"] = fmtNum(c.Rate)
	}
	cell["reps"] = strconv.Itoa(len(reps))
	// The leader: the index most reps had (they all have 0 when leadership is moved to m0).
	count := map[int]int{}
	best := -1
	for _, r := range reps {
		count[r.Leader]++
		if best < 0 || count[r.Leader] > count[best] {
			best = r.Leader
		}
	}
	cell["leader"] = strconv.Itoa(best)
	col := func(name string) []float64 {
		var xs []float64
		for _, r := range reps {
			x, ok := r.Values[name]
			if !ok {
				x = math.NaN()
			}
			xs = append(xs, x)
		}
		return xs
	}
	measured := []string{"requests", "qps", "latency_ms_mean", "latency_ms_p50", "latency_ms_p90",
		"latency_ms_p99", "latency_ms_p999", "errors", "write_qps", "write_latency_ms_mean",
		"probe_l_ms_mean", "probe_l_ms_p99", "probe_s_ms_mean", "probe_s_ms_p99",
		"leader_cpu_us_per_req", "follower_cpu_us_per_req", "client_cpu_us_per_req",
		"member_gc_per_s", "client_gc_per_s", "member_runq_global_mean", "member_runq_local_mean",
		"wal_fsync_ms_mean", "backend_commit_ms_mean", "peer_rtt_ms_mean", "server_rss_mb"}
	for _, m := range measured {
		cell[m] = formatValue(m, etcdharness.Median(col(m)))
	}
	lo, hi := etcdharness.MinMax(col("qps"))
	cell["qps_min"], cell["qps_max"] = formatValue("qps_min", lo), formatValue("qps_max", hi)
	lo, hi = etcdharness.MinMax(col("latency_ms_mean"))
	cell["latency_ms_mean_min"], cell["latency_ms_mean_max"] = formatValue("latency_ms_mean_min", lo), formatValue("latency_ms_mean_max", hi)
	var out []string
	for _, h := range Header {
		out = append(out, csvField(cell[h]))
	}
	return strings.Join(out, ",")
}
