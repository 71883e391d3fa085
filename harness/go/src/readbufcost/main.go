// readbufcost times what opening a read transaction costs in etcd 3.4.23's backend
// (go.etcd.io/etcd/mvcc/backend, from golang-etcd-server-dev, in GOPATH mode) as a function of
// the write buffer's size. `ConcurrentReadTx` copies the read buffer of every bucket
// (`txReadBuffer.unsafeCopy`), and `bucketBuffer.Copy` allocates and copies `len(buf)` entries:
// the buffer's capacity, which grows by half each time it fills and is dropped only by a commit
// that finds the bucket unused since the last. The program writes --writes puts into one bucket
// in a batch transaction, commits (so the buffer is empty but keeps its capacity), then opens and
// closes --reads read transactions on --goroutines goroutines, and prints the process CPU
// (user+system, GC included) per read transaction as JSON. Written for etcdsim
// (src/model/backend.rs).
//
//	readbufcost --writes 1000 --reads 200000
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/mvcc/backend"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	writes := flag.Int("writes", 1000, "puts into the key bucket before the commit (0: no bucket buffer)")
	reads := flag.Int("reads", 200000, "read transactions opened")
	goroutines := flag.Int("goroutines", 2, "goroutines opening them")
	dir := flag.String("dir", os.TempDir(), "where the bolt file goes")
	ballastMB := flag.Int("heap-mb", 0, "live heap to hold during the reads, MB (etcd's own heap sets how often Go's GC runs)")
	flag.Parse()
	ballast := make([][]byte, *ballastMB)
	for i := range ballast {
		ballast[i] = make([]byte, 1<<20)
	}

	d, err := ioutil.TempDir(*dir, "readbufcost")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(d)
	cfg := backend.DefaultBackendConfig()
	cfg.Path = filepath.Join(d, "db")
	cfg.BatchInterval = time.Hour // no commit but ours
	cfg.BatchLimit = 1 << 30
	be := backend.New(cfg)
	bucket := []byte("key")
	tx := be.BatchTx()
	tx.Lock()
	tx.UnsafeCreateBucket(bucket)
	tx.Unlock()
	be.ForceCommit()
	val := make([]byte, 256)
	// One write transaction per put, as apply writes them; each goes into the read buffer at
	// its unlock (writeback).
	for i := 0; i < *writes; i++ {
		tx.Lock()
		tx.UnsafePut(bucket, []byte(fmt.Sprintf("%016d", i)), val)
		tx.Unlock()
	}
	be.ForceCommit()

	start, wall := cpu(), time.Now()
	var wg sync.WaitGroup
	per := *reads / *goroutines
	for g := 0; g < *goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				rt := be.ConcurrentReadTx()
				rt.RLock()
				rt.RUnlock()
			}
		}()
	}
	wg.Wait()
	used, took := cpu()-start, time.Since(wall)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(ballast)
	n := float64(per * *goroutines)
	b, _ := json.Marshal(map[string]float64{
		"writes": float64(*writes), "reads": n,
		"cpu_ns_per_read": float64(used.Nanoseconds()) / n,
		"wall_ns_per_read": float64(took.Nanoseconds()) / n,
		"heap_mb": float64(*ballastMB), "gc_cycles": float64(ms.NumGC),
	})
	fmt.Println(string(b))
}
