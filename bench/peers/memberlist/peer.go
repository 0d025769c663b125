// memberlist-peer: one HashiCorp memberlist node for meshd's side-by-side benchmark
// (issue 8, bench/peers/memberlist). Built offline from Debian's
// golang-github-hashicorp-memberlist-dev (0.2.2) in GOPATH mode; see build.sh.
//
// The node joins a cluster, optionally originates updates (--writer) that are
// disseminated with memberlist's own TransmitLimitedQueue + Delegate (user
// broadcasts, piggybacked on gossip and probe packets), relays every update it
// receives for the first time (infection style, as serf does with user events),
// and writes JSON lines to --out:
//
//	{"ev":"start", ...}                       config, pid, CPU at start
//	{"ev":"member","node":..,"state":"alive|dead|left","t_ns":..}   EventDelegate
//	{"ev":"ready","members":N,"t_ns":..}      first time NumMembers() >= --expect
//	{"ev":"apply","key":..,"seq":..,"origin":..,"origin_ns":..,"apply_ns":..}
//	{"ev":"cpu","mark":i,"t_ns":..,"utime_ns":..,"stime_ns":..}   on SIGUSR2
//	{"ev":"writer_start"|"writer_done", ...}  writer only
//	{"ev":"stopping","t_ns":..}               on SIGTERM/SIGINT or --duration
//	{"ev":"summary", ...}                     counts and CPU at start/end
//
// All timestamps are CLOCK_REALTIME nanoseconds (time.Now().UnixNano()); every
// node runs on the same host, so origin_ns and apply_ns share one clock (network
// namespaces do not virtualise CLOCK_REALTIME).
//
// Signals: SIGUSR1 starts the writer's update stream (unless --start-after is
// given), SIGUSR2 records a CPU mark, SIGTERM/SIGINT stop the node (Shutdown
// without Leave, so a stop looks like a crash to the others; the driver only
// counts membership events before the first stop).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/hashicorp/memberlist"
)

// ---------------------------------------------------------------- output

type jsonOut struct {
	mu sync.Mutex
	w  *bufio.Writer
	f  *os.File
}

func (o *jsonOut) emit(v map[string]interface{}, flush bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	o.mu.Lock()
	o.w.Write(b)
	o.w.WriteByte('\n')
	if flush {
		o.w.Flush()
	}
	o.mu.Unlock()
}

func (o *jsonOut) flush() {
	o.mu.Lock()
	if o.w.Buffered() > 0 {
		o.w.Flush()
	}
	o.mu.Unlock()
}

func nowNs() int64 { return time.Now().UnixNano() }

func cpuNs() (user, sys int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1, -1
	}
	return ru.Utime.Nano(), ru.Stime.Nano()
}

// ---------------------------------------------------------------- update wire format
//
// [1 B version=1][8 B origin_ns BE][4 B seq BE][1 B len][origin][1 B len][key][value...]

const msgVersion = 1

type update struct {
	originNs int64
	seq      uint32
	origin   string
	key      string
	value    []byte
}

func encodeUpdate(u *update) []byte {
	b := make([]byte, 0, 15+len(u.origin)+len(u.key)+len(u.value))
	b = append(b, msgVersion)
	var t [12]byte
	binary.BigEndian.PutUint64(t[0:8], uint64(u.originNs))
	binary.BigEndian.PutUint32(t[8:12], u.seq)
	b = append(b, t[:]...)
	b = append(b, byte(len(u.origin)))
	b = append(b, u.origin...)
	b = append(b, byte(len(u.key)))
	b = append(b, u.key...)
	b = append(b, u.value...)
	return b
}

func decodeUpdate(b []byte) (*update, error) {
	if len(b) < 15 || b[0] != msgVersion {
		return nil, errors.New("bad update")
	}
	u := &update{
		originNs: int64(binary.BigEndian.Uint64(b[1:9])),
		seq:      binary.BigEndian.Uint32(b[9:13]),
	}
	p := 13
	ol := int(b[p])
	p++
	if p+ol+1 > len(b) {
		return nil, errors.New("bad origin")
	}
	u.origin = string(b[p : p+ol])
	p += ol
	kl := int(b[p])
	p++
	if p+kl > len(b) {
		return nil, errors.New("bad key")
	}
	u.key = string(b[p : p+kl])
	p += kl
	u.value = append([]byte(nil), b[p:]...)
	return u, nil
}

// userBroadcast is one queued user message. It is unique (never invalidates
// another one): every update must reach every node, as meshd's puts must.
type userBroadcast struct{ msg []byte }

func (b *userBroadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b *userBroadcast) Message() []byte                       { return b.msg }
func (b *userBroadcast) Finished()                             {}
func (b *userBroadcast) UniqueBroadcast()                      {}

// ---------------------------------------------------------------- delegates

type peer struct {
	name  string
	out   *jsonOut
	queue *memberlist.TransmitLimitedQueue
	relay bool

	mu       sync.Mutex
	seen     map[string]struct{}
	applied  int64
	dups     int64
	bad      int64
	sent     int64
	relayed  int64
	dead     int64
	left     int64
	joined   int64
	stopping bool
}

func updID(origin string, seq uint32) string {
	return origin + "\x00" + strconv.FormatUint(uint64(seq), 10)
}

// Delegate

func (p *peer) NodeMeta(limit int) []byte { return nil }

func (p *peer) NotifyMsg(b []byte) {
	t := nowNs()
	u, err := decodeUpdate(b)
	if err != nil {
		p.mu.Lock()
		p.bad++
		p.mu.Unlock()
		return
	}
	id := updID(u.origin, u.seq)
	p.mu.Lock()
	if _, ok := p.seen[id]; ok {
		p.dups++
		p.mu.Unlock()
		return
	}
	p.seen[id] = struct{}{}
	p.applied++
	if p.relay {
		p.relayed++
	}
	p.mu.Unlock()
	if p.relay {
		// NotifyMsg's buffer may be reused after we return: copy it.
		p.queue.QueueBroadcast(&userBroadcast{msg: append([]byte(nil), b...)})
	}
	p.out.emit(map[string]interface{}{
		"ev": "apply", "key": u.key, "seq": u.seq, "origin": u.origin,
		"origin_ns": u.originNs, "apply_ns": t,
	}, false)
}

func (p *peer) GetBroadcasts(overhead, limit int) [][]byte {
	return p.queue.GetBroadcasts(overhead, limit)
}

// User broadcasts are best effort: no push-pull catch-up of user state (this is
// how memberlist user messages behave unless an application adds anti-entropy).
func (p *peer) LocalState(join bool) []byte            { return nil }
func (p *peer) MergeRemoteState(buf []byte, join bool) {}

// EventDelegate

// nodeStateMirror mirrors memberlist 0.2.2's unexported nodeState, whose first
// field is the embedded Node. In 0.2.2 NotifyLeave receives &state.Node, but the
// Node.State copy is never updated (nodeState.State shadows it), so the only way
// to tell "dead" from "left" is to read the enclosing nodeState. NotifyLeave has
// exactly one call site (state.go deadNode), which passes &state.Node.
type nodeStateMirror struct {
	memberlist.Node
	Incarnation uint32
	State       memberlist.NodeStateType
	StateChange time.Time
}

func (p *peer) NotifyJoin(n *memberlist.Node) {
	t := nowNs()
	p.mu.Lock()
	p.joined++
	p.mu.Unlock()
	p.out.emit(map[string]interface{}{"ev": "member", "node": n.Name, "state": "alive", "t_ns": t}, false)
}

func (p *peer) NotifyLeave(n *memberlist.Node) {
	t := nowNs()
	st := n.State
	if st == memberlist.StateAlive {
		st = (*nodeStateMirror)(unsafe.Pointer(n)).State
	}
	state := "dead"
	if st == memberlist.StateLeft {
		state = "left"
	}
	p.mu.Lock()
	if state == "left" {
		p.left++
	} else {
		p.dead++
	}
	p.mu.Unlock()
	p.out.emit(map[string]interface{}{"ev": "member", "node": n.Name, "state": state, "t_ns": t}, false)
}

func (p *peer) NotifyUpdate(n *memberlist.Node) {}

// ---------------------------------------------------------------- main

func main() {
	var (
		name        = flag.String("name", "", "node name (default: host name)")
		bind        = flag.String("bind", "0.0.0.0", "bind/advertise IP")
		port        = flag.Int("port", 7946, "UDP+TCP port")
		join        = flag.String("join", "", "comma-separated IP[:port] list to join")
		profile     = flag.String("profile", "lan", "lan | fast | local")
		writer      = flag.Bool("writer", false, "this node originates updates")
		updates     = flag.Int("updates", 100, "updates to originate (writer)")
		rate        = flag.Float64("rate", 50, "updates per second (writer)")
		valueSize   = flag.Int("value-size", 16, "value bytes per update")
		keys        = flag.Int("keys", 0, "key space; 0 = one key per update")
		startAfter  = flag.Duration("start-after", 0, "writer: start this long after ready (0 = wait for SIGUSR1)")
		expect      = flag.Int("expect", 0, "members (incl. self) that make the node 'ready'")
		duration    = flag.Duration("duration", 5*time.Minute, "hard bound on the process lifetime")
		outPath     = flag.String("out", "", "JSON-lines output file (default stdout)")
		logPath     = flag.String("log", "", "memberlist log file (default stderr)")
		relay       = flag.Bool("relay", true, "re-broadcast updates on first receipt")
		probeIv     = flag.Duration("probe-interval", 0, "override ProbeInterval")
		probeTo     = flag.Duration("probe-timeout", 0, "override ProbeTimeout")
		gossipIv    = flag.Duration("gossip-interval", 0, "override GossipInterval")
		gossipNodes = flag.Int("gossip-nodes", 0, "override GossipNodes")
		suspMult    = flag.Int("suspicion-mult", 0, "override SuspicionMult")
		retrMult    = flag.Int("retransmit-mult", 0, "override RetransmitMult")
		pushPull    = flag.Duration("push-pull-interval", -1, "override PushPullInterval (0 disables)")
	)
	flag.Parse()

	var cfg *memberlist.Config
	switch *profile {
	case "lan":
		cfg = memberlist.DefaultLANConfig()
	case "local":
		cfg = memberlist.DefaultLocalConfig()
	case "fast":
		// "Fastest stable" tuning (anchors.md §7: probe 50 ms, gossip 1 ms).
		// ProbeTimeout must stay below ProbeInterval, or the ack handler's
		// interval timer fires first and no time is left for indirect probes:
		// keep LAN's 1:2 ratio. Everything else stays at DefaultLANConfig.
		cfg = memberlist.DefaultLANConfig()
		cfg.ProbeInterval = 50 * time.Millisecond
		cfg.ProbeTimeout = 25 * time.Millisecond
		cfg.GossipInterval = 1 * time.Millisecond
	default:
		log.Fatalf("unknown --profile %q (lan|fast|local)", *profile)
	}
	if *probeIv > 0 {
		cfg.ProbeInterval = *probeIv
	}
	if *probeTo > 0 {
		cfg.ProbeTimeout = *probeTo
	}
	if *gossipIv > 0 {
		cfg.GossipInterval = *gossipIv
	}
	if *gossipNodes > 0 {
		cfg.GossipNodes = *gossipNodes
	}
	if *suspMult > 0 {
		cfg.SuspicionMult = *suspMult
	}
	if *retrMult > 0 {
		cfg.RetransmitMult = *retrMult
	}
	if *pushPull >= 0 {
		cfg.PushPullInterval = *pushPull
	}
	if *name != "" {
		cfg.Name = *name
	}
	if len(cfg.Name) > 255 {
		log.Fatal("--name too long")
	}
	cfg.BindAddr = *bind
	cfg.BindPort = *port
	cfg.AdvertisePort = *port
	if *bind != "0.0.0.0" {
		cfg.AdvertiseAddr = *bind
	}
	var logw io.Writer = os.Stderr
	if *logPath != "" {
		lf, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
		if err != nil {
			log.Fatal(err)
		}
		defer lf.Close()
		logw = lf
	}
	cfg.LogOutput = logw

	var of *os.File = os.Stdout
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			log.Fatal(err)
		}
		of = f
	}
	out := &jsonOut{w: bufio.NewWriterSize(of, 1<<16), f: of}

	// Signals first, so that the driver can never kill us before we listen.
	sigUsr1 := make(chan os.Signal, 4)
	sigUsr2 := make(chan os.Signal, 16)
	sigStop := make(chan os.Signal, 2)
	signal.Notify(sigUsr1, syscall.SIGUSR1)
	signal.Notify(sigUsr2, syscall.SIGUSR2)
	signal.Notify(sigStop, syscall.SIGTERM, syscall.SIGINT)

	startNs := nowNs()
	u0, s0 := cpuNs()
	p := &peer{name: cfg.Name, out: out, relay: *relay, seen: make(map[string]struct{})}
	cfg.Delegate = p
	cfg.Events = p
	out.emit(map[string]interface{}{
		"ev": "start", "node": cfg.Name, "pid": os.Getpid(), "t_ns": startNs,
		"utime_ns": u0, "stime_ns": s0, "profile": *profile, "writer": *writer,
		"bind": *bind, "port": *port,
		"config": map[string]interface{}{
			"ProbeInterval_ms": cfg.ProbeInterval.Seconds() * 1e3, "ProbeTimeout_ms": cfg.ProbeTimeout.Seconds() * 1e3,
			"GossipInterval_ms": cfg.GossipInterval.Seconds() * 1e3, "GossipNodes": cfg.GossipNodes,
			"SuspicionMult": cfg.SuspicionMult, "SuspicionMaxTimeoutMult": cfg.SuspicionMaxTimeoutMult,
			"RetransmitMult": cfg.RetransmitMult, "IndirectChecks": cfg.IndirectChecks,
			"PushPullInterval_ms": cfg.PushPullInterval.Seconds() * 1e3, "UDPBufferSize": cfg.UDPBufferSize,
			"AwarenessMaxMultiplier": cfg.AwarenessMaxMultiplier, "EnableCompression": cfg.EnableCompression,
			"relay": *relay,
		},
	}, true)

	ml, err := memberlist.Create(cfg)
	if err != nil {
		out.emit(map[string]interface{}{"ev": "error", "msg": err.Error(), "t_ns": nowNs()}, true)
		log.Fatalf("memberlist.Create: %v", err)
	}
	p.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return ml.NumMembers() },
		RetransmitMult: cfg.RetransmitMult,
	}

	deadline := time.Now().Add(*duration)
	stopCh := make(chan struct{})
	var stopOnce sync.Once
	stop := func(why string) {
		stopOnce.Do(func() {
			p.mu.Lock()
			p.stopping = true
			p.mu.Unlock()
			out.emit(map[string]interface{}{"ev": "stopping", "why": why, "t_ns": nowNs()}, true)
			close(stopCh)
		})
	}

	// Join with retries (the seed may still be starting), bounded by 20 s.
	if *join != "" {
		var addrs []string
		for _, a := range strings.Split(*join, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(a); err != nil {
				a = net.JoinHostPort(a, strconv.Itoa(*port))
			}
			addrs = append(addrs, a)
		}
		jd := time.Now().Add(20 * time.Second)
		for {
			n, err := ml.Join(addrs)
			if err == nil && n > 0 {
				out.emit(map[string]interface{}{"ev": "joined", "contacted": n, "t_ns": nowNs()}, true)
				break
			}
			if time.Now().After(jd) {
				out.emit(map[string]interface{}{"ev": "error", "msg": fmt.Sprintf("join failed: %v", err), "t_ns": nowNs()}, true)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Readiness watcher (polls until ready, then stops ticking) and periodic flush
	// (100 ms; only writes when something is buffered). Both are kept cheap so that
	// the idle-CPU figure is memberlist's, not the harness's.
	readyCh := make(chan struct{})
	go func() {
		flushT := time.NewTicker(100 * time.Millisecond)
		defer flushT.Stop()
		var pollC <-chan time.Time
		var pollT *time.Ticker
		if *expect > 0 {
			pollT = time.NewTicker(10 * time.Millisecond)
			defer pollT.Stop()
			pollC = pollT.C
		}
		for {
			select {
			case <-stopCh:
				return
			case <-flushT.C:
				out.flush()
			case <-pollC:
				if n := ml.NumMembers(); n >= *expect {
					out.emit(map[string]interface{}{"ev": "ready", "members": n, "t_ns": nowNs()}, true)
					close(readyCh)
					pollT.Stop()
					pollC = nil
				}
			}
		}
	}()
	if *expect <= 0 {
		close(readyCh)
	}

	// Writer.
	writerDone := make(chan struct{})
	if *writer {
		go func() {
			defer close(writerDone)
			// Wait for the go signal.
			select {
			case <-stopCh:
				return
			case <-readyCh:
			}
			if *startAfter > 0 {
				select {
				case <-stopCh:
					return
				case <-time.After(*startAfter):
				}
			} else {
				select {
				case <-stopCh:
					return
				case <-sigUsr1:
				}
			}
			wu, ws := cpuNs()
			out.emit(map[string]interface{}{"ev": "writer_start", "t_ns": nowNs(), "updates": *updates,
				"rate": *rate, "utime_ns": wu, "stime_ns": ws}, true)
			val := make([]byte, *valueSize)
			for i := range val {
				val[i] = byte('a' + i%26)
			}
			interval := time.Duration(float64(time.Second) / *rate)
			t0 := time.Now()
			sent := 0
			for i := 0; i < *updates; i++ {
				// Absolute schedule: no drift from ticker skips.
				due := t0.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					select {
					case <-stopCh:
						goto done
					case <-time.After(d):
					}
				}
				k := i
				if *keys > 0 {
					k = i % *keys
				}
				u := &update{originNs: nowNs(), seq: uint32(i), origin: cfg.Name,
					key: "k" + strconv.Itoa(k), value: val}
				p.mu.Lock()
				p.seen[updID(u.origin, u.seq)] = struct{}{}
				p.sent++
				p.mu.Unlock()
				p.queue.QueueBroadcast(&userBroadcast{msg: encodeUpdate(u)})
				sent++
			}
		done:
			wu, ws = cpuNs()
			out.emit(map[string]interface{}{"ev": "writer_done", "t_ns": nowNs(), "sent": sent,
				"utime_ns": wu, "stime_ns": ws}, true)
		}()
	} else {
		close(writerDone)
	}

	// Main loop: CPU marks, stop conditions.
	mark := 0
	hard := time.NewTimer(time.Until(deadline))
loop:
	for {
		select {
		case <-sigUsr2:
			u, s := cpuNs()
			out.emit(map[string]interface{}{"ev": "cpu", "mark": mark, "t_ns": nowNs(), "utime_ns": u, "stime_ns": s}, true)
			mark++
		case s := <-sigStop:
			stop(s.String())
			break loop
		case <-hard.C:
			stop("duration")
			break loop
		}
	}

	u1, s1 := cpuNs()
	endNs := nowNs()
	ml.Shutdown()
	p.mu.Lock()
	sum := map[string]interface{}{
		"ev": "summary", "node": cfg.Name, "t_ns": endNs,
		"start_ns": startNs, "end_ns": endNs,
		"sent": p.sent, "applied": p.applied, "dups": p.dups, "bad": p.bad, "relayed": p.relayed,
		"member_joins": p.joined, "member_dead": p.dead, "member_left": p.left,
		"members_at_end": ml.NumMembers(), "queued_at_end": p.queue.NumQueued(),
		"cpu_start": map[string]int64{"utime_ns": u0, "stime_ns": s0},
		"cpu_end":   map[string]int64{"utime_ns": u1, "stime_ns": s1},
		"cpu_pct":   100 * float64((u1-u0)+(s1-s0)) / float64(endNs-startNs),
	}
	p.mu.Unlock()
	out.emit(sum, true)
	if of != os.Stdout {
		of.Close()
	}
}
