package etcdharness

import (
	"go.etcd.io/etcd/pkg/logutil"
	"go.uber.org/zap"
)

// QuietLog is a clientv3 LogConfig that logs errors only (clientv3 warns on every retried call,
// which the harness's readiness polling makes on purpose).
func QuietLog() *zap.Config {
	c := logutil.DefaultZapLoggerConfig
	c.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	return &c
}
