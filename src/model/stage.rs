//! The stages of a request's latency. Every nanosecond between a request's start (the
//! benchmark's `st := time.Now()`) and its end is charged to exactly one stage, so the stages of
//! a request sum to its latency.

/// Where a request's time goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Stage {
    /// Waiting for a core on the client host.
    ClientQueue = 0,
    /// Client CPU: clientv3 builds and sends the request, receives and decodes the response.
    Client,
    /// gRPC's transport goroutines: a writer framing and writing queued messages in one
    /// system call, a reader parsing what arrived (on the client or the member).
    Transport,
    /// Waiting for a network interface behind other messages (either direction).
    NicQueue,
    /// The request on the wire: serialization at the sender's bandwidth plus propagation.
    NetRequest,
    /// Waiting for a core on the member.
    CpuQueue,
    /// gRPC: receive, decode, interceptors, and encoding of the response.
    Grpc,
    /// Waiting for a lock: the simple-token mutex, the RBAC check's lock, or the treeIndex
    /// lock (a range walk waits while apply updates the index); for a put being applied, the
    /// treeIndex or read-tx lock its apply needs while a range walk or a read holds it.
    LockWait,
    /// Token check and RBAC permission check (and a TLS handshake with certificates).
    Auth,
    /// Password auth: the whole Authenticate call clientv3 makes first when it has no token
    /// (a linearizable read, a bcrypt comparison, a raft write).
    Authenticate,
    /// Linearizable: waiting for the member's next ReadIndex round (one is already in flight).
    ReadIndexBatch,
    /// Linearizable: the ReadIndex round (to the leader, heartbeat quorum, index back, Ready).
    ReadIndexRound,
    /// Linearizable: waiting until the member has applied up to the read index.
    ApplyWait,
    /// Waiting to open a read transaction: a backend commit (or, before 3.4, a write-back)
    /// holds the read-tx lock.
    BackendWait,
    /// The treeIndex walk.
    Index,
    /// Value fetch from the buffer or boltdb, unmarshal and response assembly.
    Value,
    /// The response on the wire: serialization plus propagation.
    NetResponse,
    /// A put from proposal to commit: forwarding to the leader, replication, WAL fsyncs, quorum.
    Replicate,
    /// A committed put waiting for the apply goroutine of the member that answers to reach its
    /// entry: the batches handed over before it, the entries ahead of it in its batch, and the
    /// batch-tx lock (which a backend commit holds across its fsyncs).
    ApplyQueue,
    /// The apply of the put's own entry: its write transaction, the index update and the
    /// write-back (with their locks).
    Apply,
    /// The gRPC proxy's CPU: routing the request, looking up its cache, relaying the response.
    Proxy,
    /// clientv3 waits to retry a call that failed with Unavailable (its backoff), or for the
    /// connection to its endpoint to come back.
    Retry,
}

impl Stage {
    /// Number of stages.
    pub const COUNT: usize = 22;

    /// Every stage, in the order a request meets them.
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::ClientQueue,
        Stage::Client,
        Stage::Transport,
        Stage::NicQueue,
        Stage::NetRequest,
        Stage::CpuQueue,
        Stage::Grpc,
        Stage::LockWait,
        Stage::Auth,
        Stage::Authenticate,
        Stage::ReadIndexBatch,
        Stage::ReadIndexRound,
        Stage::ApplyWait,
        Stage::BackendWait,
        Stage::Index,
        Stage::Value,
        Stage::NetResponse,
        Stage::Replicate,
        Stage::ApplyQueue,
        Stage::Apply,
        Stage::Proxy,
        Stage::Retry,
    ];

    /// A short snake_case name, used in CSV column names.
    pub fn name(self) -> &'static str {
        match self {
            Stage::ClientQueue => "client_queue",
            Stage::Client => "client_cpu",
            Stage::Transport => "grpc_transport",
            Stage::NicQueue => "nic_queue",
            Stage::NetRequest => "net_request",
            Stage::CpuQueue => "cpu_queue",
            Stage::Grpc => "grpc",
            Stage::LockWait => "lock_wait",
            Stage::Auth => "auth",
            Stage::Authenticate => "authenticate",
            Stage::ReadIndexBatch => "readindex_batch_wait",
            Stage::ReadIndexRound => "readindex_round",
            Stage::ApplyWait => "apply_wait",
            Stage::BackendWait => "backend_wait",
            Stage::Replicate => "replicate",
            Stage::ApplyQueue => "apply_queue",
            Stage::Apply => "apply",
            Stage::Index => "index",
            Stage::Value => "value",
            Stage::NetResponse => "net_response",
            Stage::Proxy => "proxy",
            Stage::Retry => "retry",
        }
    }

    /// Whether the stage is time spent queueing (as opposed to being served): waiting for
    /// something that is busy with other work (a core, a NIC, a lock, a ReadIndex round already
    /// in flight, the apply loop with other entries, a backend commit), rather than the
    /// request's own work or its own round trips.
    pub fn is_queueing(self) -> bool {
        matches!(
            self,
            Stage::ClientQueue
                | Stage::NicQueue
                | Stage::CpuQueue
                | Stage::LockWait
                | Stage::ReadIndexBatch
                | Stage::ApplyWait
                | Stage::BackendWait
                | Stage::ApplyQueue
                | Stage::Retry
        )
    }

    /// `queueing` or `service`, as reports and the CSVs label a stage.
    pub fn kind(self) -> &'static str {
        if self.is_queueing() {
            "queueing"
        } else {
            "service"
        }
    }

    /// One sentence on what etcd does in this stage.
    pub fn explain(self) -> &'static str {
        match self {
            Stage::ClientQueue => {
                "The client machine's cores are all busy; the request waits to be sent."
            }
            Stage::Client => {
                "clientv3 marshals the request, picks an endpoint and later decodes the response."
            }
            Stage::Transport => {
                "gRPC's transport goroutines run: a writer frames what is queued and writes it with one system call, a reader parses what arrived; under load one burst carries many requests."
            }
            Stage::NicQueue => {
                "The message waits behind others on a network interface (large responses queue here)."
            }
            Stage::NetRequest => {
                "The request crosses the network: size / bandwidth, plus half an RTT."
            }
            Stage::CpuQueue => {
                "Every core of the member (or of the proxy) is busy with other goroutines; the request waits for one."
            }
            Stage::Grpc => {
                "gRPC decodes the request, runs the interceptors, and later encodes the response."
            }
            Stage::LockWait => {
                "The request waits for a lock: the simple-token map, the lock the RBAC check takes, or the treeIndex lock while apply updates the index (or, for a put being applied, while a range walk holds it)."
            }
            Stage::Auth => {
                "The token is validated and the user's permission on the key range is checked (RBAC)."
            }
            Stage::ReadIndexBatch => {
                "A ReadIndex round is already in flight on this member; the read waits for the next one, which serves every read queued before it."
            }
            Stage::ReadIndexRound => {
                "The member asks the leader for its commit index; the leader confirms leadership with a heartbeat round to a quorum."
            }
            Stage::ApplyWait => {
                "The member waits until its applied index reaches the read index (apply is serial)."
            }
            Stage::Authenticate => {
                "clientv3 has no token, so it first calls Authenticate: a linearizable read, a bcrypt comparison (tens of ms of one core; before 3.4.9 under the backend batch-tx lock) and a raft write."
            }
            Stage::BackendWait => {
                "A backend commit holds the read-transaction lock across its two fsyncs (every 100 ms while writes are pending, or before 3.4 a write-back); the read cannot open its transaction."
            }
            Stage::Replicate => {
                "The put is proposed, forwarded to the leader, appended and sent to followers, fsynced to their WALs, and committed by a quorum."
            }
            Stage::ApplyQueue => {
                "The committed put waits for the member's serial apply loop to reach its entry: the batches before it, the entries ahead of it, and the batch-tx lock while a backend commit holds it."
            }
            Stage::Apply => {
                "The apply loop applies the put's own entry: a write transaction under the batch-tx lock that updates the index and the backend buffer."
            }
            Stage::Index => {
                "The in-memory B-tree (treeIndex) is walked under its read lock to find the revisions."
            }
            Stage::Value => {
                "Each revision is looked up in the read buffer or boltdb, unmarshalled, and the response assembled."
            }
            Stage::NetResponse => {
                "The response crosses the network: size / bandwidth, plus half an RTT."
            }
            Stage::Proxy => {
                "The gRPC proxy decodes the request and looks up its cache: a serializable range it holds is answered at once; anything else is forwarded to a member, and the response relayed (and cached)."
            }
            Stage::Retry => {
                "The call failed with Unavailable (leader changed, connection reset) and clientv3 waits to retry it (25 ms backoff), or waits for its endpoint's connection to come back (clientv3 does not fail fast)."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_discriminant_order() {
        for (i, s) in Stage::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
    }
}
