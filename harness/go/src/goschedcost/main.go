package main

import (
	"fmt"
	"runtime"
	"time"
)

// Times runtime.Gosched in a goroutine alone (the global queue holds only it) and beside one
// other runnable goroutine on one P.
func main() {
	runtime.GOMAXPROCS(1)
	const n = 2000000
	for rep := 0; rep < 3; rep++ {
		t := time.Now()
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		alone := time.Since(t)
		done := make(chan struct{})
		stop := false
		go func() {
			for !stop {
				runtime.Gosched()
			}
			close(done)
		}()
		t = time.Now()
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		pair := time.Since(t)
		stop = true
		<-done
		fmt.Printf("alone %.1f ns/Gosched, with another %.1f ns per switch\n", float64(alone.Nanoseconds())/n, float64(pair.Nanoseconds())/(2*n))
	}
}
