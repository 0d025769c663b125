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
//	{"ev":"writer_start"|"writer_done","stage":k, ...}  writer only, one pair per stage
//	{"ev":"suspect","node":..,"t_ns":..}      this node's probe suspected node (log tap)
//	{"ev":"refute","kind":"suspect|dead","from":..,"t_ns":..}  this node refuted (log tap)
//	{"ev":"leave_start"|"leave_done", ...}    on SIGHUP (graceful leave)
//	{"ev":"stopping","t_ns":..}               on SIGTERM/SIGINT/SIGHUP or --duration
//	{"ev":"summary", ...}                     counts and CPU at start/end
//
// All timestamps are CLOCK_REALTIME nanoseconds (time.Now().UnixNano()); every
// node runs on the same host, so origin_ns and apply_ns share one clock (network
// namespaces do not virtualise CLOCK_REALTIME).
//
// Signals: SIGUSR1 starts the writer's next update stage (stage 0 = --updates at
// --rate, unless --start-after is given; then each --stages entry in turn),
// SIGUSR2 records a CPU mark, SIGTERM/SIGINT stop the node (Shutdown without
// Leave, so a stop looks like a crash to the others; the driver only counts
// membership events before the first stop), SIGHUP leaves gracefully:
// Leave(--leave-timeout), then Shutdown and exit.
//
// memberlist has no delegate for suspicion; its log lines are tapped instead
// (logTap below): "Suspect X has failed" (this node's probe of X failed and it
// starts a suspicion) and "Refuting a suspect|dead message" become events.
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

// ---------------------------------------------------------------- log tap
//
// logTap passes memberlist's log through to the log file and turns the lines
// about suspicion into events. log.Logger issues one Write per line.

type logTap struct {
	w   io.Writer
	out *jsonOut
	mu  sync.Mutex
	// counts
	suspects, refuteSuspect, refuteDead int64
}

const (
	tapSuspect       = "memberlist: Suspect "
	tapSuspectEnd    = " has failed, no acks received"
	tapRefuteSuspect = "memberlist: Refuting a suspect message (from: "
	tapRefuteDead    = "memberlist: Refuting a dead message (from: "
)

func (l *logTap) Write(b []byte) (int, error) {
	t := nowNs()
	line := strings.TrimRight(string(b), "\n")
	if i := strings.Index(line, tapSuspect); i >= 0 && strings.HasSuffix(line, tapSuspectEnd) {
		node := line[i+len(tapSuspect) : len(line)-len(tapSuspectEnd)]
		l.mu.Lock()
		l.suspects++
		l.mu.Unlock()
		l.out.emit(map[string]interface{}{"ev": "suspect", "node": node, "t_ns": t}, false)
	} else if i := strings.Index(line, tapRefuteSuspect); i >= 0 {
		l.mu.Lock()
		l.refuteSuspect++
		l.mu.Unlock()
		l.out.emit(map[string]interface{}{"ev": "refute", "kind": "suspect",
			"from": strings.TrimSuffix(line[i+len(tapRefuteSuspect):], ")"), "t_ns": t}, false)
	} else if i := strings.Index(line, tapRefuteDead); i >= 0 {
		l.mu.Lock()
		l.refuteDead++
		l.mu.Unlock()
		l.out.emit(map[string]interface{}{"ev": "refute", "kind": "dead",
			"from": strings.TrimSuffix(line[i+len(tapRefuteDead):], ")"), "t_ns": t}, false)
	}
	return l.w.Write(b)
}

// ---------------------------------------------------------------- writer stages

type stage struct {
	rate    float64
	updates int
}

// parseStages parses "RATE:COUNT,RATE:COUNT,..." (RATE > 0 per second, COUNT >= 0).
func parseStages(s string) ([]stage, error) {
	var st []stage
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		rc := strings.SplitN(f, ":", 2)
		if len(rc) != 2 {
			return nil, fmt.Errorf("stage %q: want RATE:COUNT", f)
		}
		r, err := strconv.ParseFloat(rc[0], 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("stage %q: bad rate", f)
		}
		c, err := strconv.Atoi(rc[1])
		if err != nil || c < 0 {
			return nil, fmt.Errorf("stage %q: bad count", f)
		}
		st = append(st, stage{rate: r, updates: c})
	}
	return st, nil
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
		stagesArg   = flag.String("stages", "", "writer: further stages RATE:COUNT,... after stage 0, each started by SIGUSR1")
		leaveTo     = flag.Duration("leave-timeout", 5*time.Second, "SIGHUP: Leave() timeout before Shutdown")
	)
	flag.Parse()
	extraStages, err := parseStages(*stagesArg)
	if err != nil {
		log.Fatalf("--stages: %v", err)
	}

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

	var of *os.File = os.Stdout
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			log.Fatal(err)
		}
		of = f
	}
	out := &jsonOut{w: bufio.NewWriterSize(of, 1<<16), f: of}
	tap := &logTap{w: logw, out: out}
	cfg.LogOutput = tap

	// Signals first, so that the driver can never kill us before we listen.
	sigUsr1 := make(chan os.Signal, 4)
	sigUsr2 := make(chan os.Signal, 16)
	sigStop := make(chan os.Signal, 2)
	sigLeave := make(chan os.Signal, 2)
	signal.Notify(sigUsr1, syscall.SIGUSR1)
	signal.Notify(sigLeave, syscall.SIGHUP)
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
			"relay": *relay, "stages": *stagesArg, "LeaveTimeout_ms": leaveTo.Seconds() * 1e3,
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

	// Writer: stage 0 (--updates at --rate) then each --stages entry, every stage
	// started by SIGUSR1 (stage 0 by --start-after instead, if given). Sequence
	// numbers run on across stages; writer_start/writer_done carry the stage, its
	// first seq and (done) the origin times of its first and last update.
	writerDone := make(chan struct{})
	if *writer {
		stages := append([]stage{{rate: *rate, updates: *updates}}, extraStages...)
		go func() {
			defer close(writerDone)
			select {
			case <-stopCh:
				return
			case <-readyCh:
			}
			val := make([]byte, *valueSize)
			for i := range val {
				val[i] = byte('a' + i%26)
			}
			seq := 0
			for si, st := range stages {
				if si == 0 && *startAfter > 0 {
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
				out.emit(map[string]interface{}{"ev": "writer_start", "stage": si, "t_ns": nowNs(),
					"updates": st.updates, "rate": st.rate, "seq_first": seq,
					"utime_ns": wu, "stime_ns": ws}, true)
				interval := time.Duration(float64(time.Second) / st.rate)
				t0 := time.Now()
				sent := 0
				var firstNs, lastNs int64
				stopped := false
				for i := 0; i < st.updates; i++ {
					// Absolute schedule: no drift from ticker skips.
					due := t0.Add(time.Duration(i) * interval)
					if d := time.Until(due); d > 0 {
						select {
						case <-stopCh:
							stopped = true
						case <-time.After(d):
						}
						if stopped {
							break
						}
					}
					k := seq
					if *keys > 0 {
						k = seq % *keys
					}
					u := &update{originNs: nowNs(), seq: uint32(seq), origin: cfg.Name,
						key: "k" + strconv.Itoa(k), value: val}
					if sent == 0 {
						firstNs = u.originNs
					}
					lastNs = u.originNs
					p.mu.Lock()
					p.seen[updID(u.origin, u.seq)] = struct{}{}
					p.sent++
					p.mu.Unlock()
					p.queue.QueueBroadcast(&userBroadcast{msg: encodeUpdate(u)})
					sent++
					seq++
				}
				wu, ws = cpuNs()
				out.emit(map[string]interface{}{"ev": "writer_done", "stage": si, "t_ns": nowNs(),
					"sent": sent, "seq_first": seq - sent, "first_ns": firstNs, "last_ns": lastNs,
					"rate": st.rate, "utime_ns": wu, "stime_ns": ws}, true)
				if stopped {
					return
				}
			}
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
		case <-sigLeave:
			// Graceful leave: Leave broadcasts a dead message about ourselves with
			// From == Node, which the others record as StateLeft, and blocks until
			// that broadcast has been sent (or the timeout). Then Shutdown below.
			t0 := nowNs()
			out.emit(map[string]interface{}{"ev": "leave_start", "t_ns": t0}, true)
			lerr := ml.Leave(*leaveTo)
			t1 := nowNs()
			ev := map[string]interface{}{"ev": "leave_done", "t_ns": t1, "leave_ns": t1 - t0, "ok": lerr == nil}
			if lerr != nil {
				ev["err"] = lerr.Error()
			}
			out.emit(ev, true)
			stop("leave")
			break loop
		case <-hard.C:
			stop("duration")
			break loop
		}
	}

	u1, s1 := cpuNs()
	endNs := nowNs()
	ml.Shutdown()
	tap.mu.Lock()
	tapSus, tapRS, tapRD := tap.suspects, tap.refuteSuspect, tap.refuteDead
	tap.mu.Unlock()
	p.mu.Lock()
	sum := map[string]interface{}{
		"ev": "summary", "node": cfg.Name, "t_ns": endNs,
		"start_ns": startNs, "end_ns": endNs,
		"sent": p.sent, "applied": p.applied, "dups": p.dups, "bad": p.bad, "relayed": p.relayed,
		"member_joins": p.joined, "member_dead": p.dead, "member_left": p.left,
		"suspects": tapSus, "refuted_suspect": tapRS, "refuted_dead": tapRD,
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
