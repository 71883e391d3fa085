// compactcost times etcd 3.4's compaction in-process, on the real mvcc store (go.etcd.io/etcd/mvcc
// from golang-etcd-server-dev, in GOPATH mode), with nothing else running: a store of --keys keys
// of --value-size bytes, each written --revisions times in transactions of 100 puts (as
// etcdload's fill), then Compact to the current revision, waiting for the physical compaction.
// It reads mvcc's own histograms (index_compaction_pause, db_compaction_pause, backend commits)
// from the default Prometheus registry and prints one JSON object. Written for etcdsim; it
// measures the cost of a compaction's parts for the model (src/model/compaction.rs).
//
//	compactcost --keys 100000 --revisions 2 --dir /tmp
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/lease"
	"go.etcd.io/etcd/mvcc"
	"go.etcd.io/etcd/mvcc/backend"
	"go.etcd.io/etcd/pkg/traceutil"
	"go.uber.org/zap"
)

type index struct{}

func (index) ConsistentIndex() uint64 { return 0 }

func main() {
	keys := flag.Int("keys", 100000, "keys in the store")
	revisions := flag.Int("revisions", 2, "times each key is written")
	valueSize := flag.Int("value-size", 1024, "value bytes")
	dir := flag.String("dir", os.TempDir(), "where the bolt file goes")
	batch := flag.Int("batch-limit", 0, "revisions a compaction batch scans (0: etcd's 1000); one batch larger than the store times the scan and deletes without sleeps or commits")
	flag.Parse()

	d, err := ioutil.TempDir(*dir, "compactcost")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(d)
	cfg := backend.DefaultBackendConfig()
	cfg.Path = filepath.Join(d, "db")
	be := backend.New(cfg)
	s := mvcc.NewStore(zap.NewNop(), be, &lease.FakeLessor{}, index{}, mvcc.StoreConfig{CompactionBatchLimit: *batch})

	val := make([]byte, *valueSize)
	fillStart := time.Now()
	var rev int64
	for r := 0; r < *revisions; r++ {
		for i := 0; i < *keys; i += 100 {
			tw := s.Write(traceutil.TODO())
			for j := i; j < i+100 && j < *keys; j++ {
				tw.Put([]byte(fmt.Sprintf("f%07d", j)), val, lease.NoLease)
			}
			rev = tw.Rev()
			tw.End()
		}
	}
	be.ForceCommit()
	fill := time.Since(fillStart)
	before := gather()

	start := time.Now()
	ch, err := s.Compact(traceutil.TODO(), rev)
	if err != nil {
		fail(err)
	}
	<-ch
	took := time.Since(start)
	after := gather()

	out := map[string]float64{
		"keys": float64(*keys), "revisions": float64(*revisions), "value_size": float64(*valueSize), "batch_limit": float64(*batch),
		"fill_s": fill.Seconds(), "compact_s": took.Seconds(), "compact_rev": float64(rev),
	}
	for k, v := range after {
		out[k] = v - before[k]
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

// gather sums the samples of the histograms and counters this program reads.
func gather() map[string]float64 {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		fail(err)
	}
	want := map[string]bool{
		"etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds": true,
		"etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds":    true,
		"etcd_debugging_mvcc_db_compaction_total_duration_milliseconds":    true,
		"etcd_debugging_mvcc_db_compaction_keys_total":                     true,
		"etcd_disk_backend_commit_duration_seconds":                        true,
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !want[mf.GetName()] {
			continue
		}
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				out[mf.GetName()+"_sum"] += h.GetSampleSum()
				out[mf.GetName()+"_count"] += float64(h.GetSampleCount())
			}
			if c := m.GetCounter(); c != nil {
				out[mf.GetName()] += c.GetValue()
			}
		}
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compactcost:", err)
	os.Exit(1)
}
