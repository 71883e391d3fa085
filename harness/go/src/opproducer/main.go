// Command opproducer measures the benchmark tool's op-producer pattern on this machine: one
// goroutine builds clientv3 Get ops and sends them into a channel with room for `clients` ops,
// and `clients` goroutines take them and do nothing else. It prints the wall time and the CPU
// (user + system, the whole process) per op; etcdsim's client.producer_us is the producer's
// share of it. Usage: opproducer CLIENTS TOTAL (run it with GOMAXPROCS=1 to leave out the
// cost of waking threads on other Ps, which etcdsim's Go runtime model charges separately).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	v3 "go.etcd.io/etcd/clientv3"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	clients, _ := strconv.Atoi(os.Args[1])
	total, _ := strconv.Atoi(os.Args[2])
	opts := []v3.OpOption{v3.WithSerializable()}
	requests := make(chan v3.Op, clients)
	var wg sync.WaitGroup
	wg.Add(clients)
	for i := 0; i < clients; i++ {
		go func() {
			defer wg.Done()
			for op := range requests {
				_ = op
			}
		}()
	}
	c0, t0 := cpu(), time.Now()
	for i := 0; i < total; i++ {
		requests <- v3.OpGet("foo", opts...)
	}
	close(requests)
	wg.Wait()
	el, c := time.Since(t0), cpu()-c0
	fmt.Printf("GOMAXPROCS=%d clients=%d total=%d: %.3f us wall per op, %.3f us CPU per op (producer and consumers)\n",
		runtime.GOMAXPROCS(0), clients, total, float64(el.Nanoseconds())/float64(total)/1e3, float64(c.Nanoseconds())/float64(total)/1e3)
}
