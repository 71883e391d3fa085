// Command bcryptcost measures one bcrypt comparison at etcd's default cost (10) on this
// machine, as Authenticate does it (golang.org/x/crypto/bcrypt's CompareHashAndPassword): the
// CPU per comparison, run one at a time on one P. etcdsim's cpu.bcrypt_us is this figure.
// Usage: bcryptcost [N]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	n := 20
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	runtime.GOMAXPROCS(1)
	hash, err := bcrypt.GenerateFromPassword([]byte("benchmark-password"), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	c0, t0 := cpu(), time.Now()
	for i := 0; i < n; i++ {
		if err := bcrypt.CompareHashAndPassword(hash, []byte("benchmark-password")); err != nil {
			panic(err)
		}
	}
	el, c := time.Since(t0), cpu()-c0
	fmt.Printf("bcrypt cost %d: %.2f ms CPU, %.2f ms wall per comparison (%d comparisons)\n",
		bcrypt.DefaultCost, float64(c.Microseconds())/1e3/float64(n), float64(el.Microseconds())/1e3/float64(n), n)
}
