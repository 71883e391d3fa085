package etcdharness

import (
	"math"
	"sort"
)

// Summarize computes LatencyStats from latencies in nanoseconds (the slice is sorted in place).
// Percentiles are nearest-rank: the p-quantile is the ceil(p*n)-th smallest value.
func Summarize(ns []int64) LatencyStats {
	n := len(ns)
	if n == 0 {
		return LatencyStats{}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	var sum float64
	for _, v := range ns {
		sum += float64(v)
	}
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	return LatencyStats{
		N:    int64(n),
		Mean: sum / float64(n) / 1e6,
		Min:  ms(ns[0]),
		P50:  ms(ns[rank(n, 0.50)]),
		P90:  ms(ns[rank(n, 0.90)]),
		P99:  ms(ns[rank(n, 0.99)]),
		P999: ms(ns[rank(n, 0.999)]),
		Max:  ms(ns[n-1]),
	}
}

func rank(n int, p float64) int {
	r := int(math.Ceil(p*float64(n))) - 1
	if r < 0 {
		r = 0
	}
	if r >= n {
		r = n - 1
	}
	return r
}

// Median of the values (NaNs dropped); NaN if none. An even count gives the mean of the two
// middle values.
func Median(vs []float64) float64 {
	var xs []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// MinMax of the values (NaNs dropped); NaN, NaN if none.
func MinMax(vs []float64) (float64, float64) {
	lo, hi := math.NaN(), math.NaN()
	for _, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		if math.IsNaN(lo) || v < lo {
			lo = v
		}
		if math.IsNaN(hi) || v > hi {
			hi = v
		}
	}
	return lo, hi
}
