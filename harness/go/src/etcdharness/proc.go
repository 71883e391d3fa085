package etcdharness

import (
	"bufio"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

var (
	clkOnce sync.Once
	clkTck  = 100
)

// ClockTicks is the kernel's USER_HZ (the unit of utime and stime in /proc/<pid>/stat), from
// `getconf CLK_TCK`; 100 if getconf is missing (it is 100 on every Linux/x86 kernel).
func ClockTicks() int {
	clkOnce.Do(func() {
		out, err := exec.Command("getconf", "CLK_TCK").Output()
		if err == nil {
			if v, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && v > 0 {
				clkTck = v
			}
		}
	})
	return clkTck
}

// CPUSeconds returns utime+stime of a process (all its threads, reaped children excluded), in
// seconds. pid 0 means this process.
func CPUSeconds(pid int) (float64, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := ioutil.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := string(b)
	// The command name is in parentheses and may hold spaces: fields start after the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: too few fields", path)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: bad utime/stime", path)
	}
	return float64(ut+st) / float64(ClockTicks()), nil
}

// RSSBytes returns a process's resident set size (VmRSS in /proc/<pid>/status).
func RSSBytes(pid int) (float64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmRSS:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				kb, err := strconv.ParseFloat(fs[1], 64)
				if err != nil {
					return 0, err
				}
				return kb * 1024, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: no VmRSS", path)
}

// MachineCPUFields names the columns of /proc/stat's "cpu" line, in order.
var MachineCPUFields = []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}

// MachineCPU reads the machine's CPU seconds by kind, summed over every CPU, from the "cpu"
// line of /proc/stat. Time the kernel spends in interrupts and softirqs (loopback's receive
// path, block-layer completions) is in "irq" and "softirq" and in no process's utime+stime.
func MachineCPU() (map[string]float64, error) {
	b, err := ioutil.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)
	if len(f) < len(MachineCPUFields)+1 || f[0] != "cpu" {
		return nil, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	out := map[string]float64{}
	for i, name := range MachineCPUFields {
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/stat: bad %s %q", name, f[i+1])
		}
		out[name] = float64(v) / float64(ClockTicks())
	}
	return out, nil
}
