//go:build ignore
// +build ignore

// Reference figures for Keel's bbolt size model (../*.ts): runs scripted, etcd-like write
// sequences on a REAL bbolt file, opened the way etcd 3.4 opens its backend on Linux
// (array freelist, NoFreelistSync), and prints the backend size etcd would report after
// each commit: tx.Size() (high-water page id x page size) and that minus the free pages
// counted when the last read-write transaction closed (etcd's dbSizeInUse).
//
// It imitates etcd's backend loop exactly where it matters for page accounting: after every
// commit the next read-write transaction begins at once (which releases the pages the commit
// freed), puts into the key bucket are "sequential" (FillPercent 0.9), the meta bucket gets
// consistent_index with every commit that wrote keys, compaction deletes are committed per
// 1000 scanned revisions, and defrag copies every bucket into a fresh file in transactions
// of 10,000 puts with FillPercent 0.9 before reopening it.
//
// Run offline (a few seconds):
//
//	cd libs/mvcc/src/backend-size/reference && GO111MODULE=off GOPATH=/usr/share/gocode \
//	  GOCACHE=/tmp/gocache go run gen.go ../fixtures
//
// It writes one JSON file per scenario: the script (which the jest test replays on the
// model) and the figures after each commit.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"math/rand"
	"os"
	"path/filepath"
	"sort"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

// Step is one scripted action; the TypeScript replay (reference-script.ts) reads the same fields.
type Step struct {
	Op string `json:"op"` // "puts" | "deletes" | "compact" | "defrag"
	// puts/deletes: Count writes on user keys (i mod Keys), KeyBytes long, ValueBytes each,
	// PerCommit writes per backend commit (each also rewrites consistent_index).
	Count      int `json:"count,omitempty"`
	Keys       int `json:"keys,omitempty"`
	KeyBytes   int `json:"keyBytes,omitempty"`
	ValueBytes int `json:"valueBytes,omitempty"`
	PerCommit  int `json:"perCommit,omitempty"`
	// puts: when set, each value is 1..RandomMax bytes, drawn from a Park-Miller generator
	// (seed 1, shared by the whole script) so the TypeScript replay draws the same sizes.
	RandomMax int `json:"randomMax,omitempty"`
	// compact: compact at the current revision minus Behind.
	Behind int `json:"behind,omitempty"`
}

// sizes is the Park-Miller "minimal standard" generator: exact in float64 too.
type sizes struct{ state int64 }

func (g *sizes) next(max int) int {
	g.state = g.state * 48271 % 2147483647
	return int(g.state%int64(max)) + 1
}

type Scenario struct {
	Name  string `json:"name"`
	Steps []Step `json:"steps"`
}

type Figure struct {
	Size  int64 `json:"size"`
	InUse int64 `json:"inUse"`
}

type Fixture struct {
	Scenario
	PageSize int `json:"pageSize"`
	// Figures after the bootstrap commits and after every later commit, in order, in pages
	// and run-length encoded: [repeat, size, inUse] stands for `repeat` equal figures.
	Figures [][3]int64 `json:"figures"`
}

func encodeFigures(figures []Figure, pageSize int64) [][3]int64 {
	var out [][3]int64
	for _, f := range figures {
		size, inUse := f.Size/pageSize, f.InUse/pageSize
		if n := len(out); n > 0 && out[n-1][1] == size && out[n-1][2] == inUse {
			out[n-1][0]++
			continue
		}
		out = append(out, [3]int64{1, size, inUse})
	}
	return out
}

var bucketNames = []string{"key", "meta", "lease", "alarm", "auth", "authUsers", "authRoles", "members", "members_removed", "cluster"}

type userKey struct {
	create, version, last int64
	lastTombstone         bool
}

type runner struct {
	path    string
	db      *bolt.DB
	tx      *bolt.Tx
	figures []Figure
	// writes in the open transaction: like etcd's batch tx, commit() skips a commit without any
	pending int
	rev     int64
	keys    map[string]*userKey
	sizes   sizes
	// every revision written, in order, with its user key (for compaction)
	history []historyEntry
}

type historyEntry struct {
	main      int64
	tombstone bool
	key       string
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func open(path string) *bolt.DB {
	// NoSync only skips fsync (figures are unaffected); it keeps the run at a few seconds.
	db, err := bolt.Open(path, 0600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistArrayType, NoSync: true})
	must(err)
	return db
}

// begin starts the next read-write transaction and records what etcd's backend.begin records.
func (r *runner) begin() {
	tx, err := r.db.Begin(true)
	must(err)
	r.tx = tx
	free := int64(r.db.Stats().FreePageN) * int64(r.db.Info().PageSize)
	r.figures = append(r.figures, Figure{Size: tx.Size(), InUse: tx.Size() - free})
}

func (r *runner) commit() {
	if r.pending == 0 {
		return
	}
	r.pending = 0
	must(r.tx.Commit())
	r.begin()
}

func (r *runner) put(bucket string, key, value []byte) {
	must(r.tx.Bucket([]byte(bucket)).Put(key, value))
	r.pending++
}

func revKey(main int64, tombstone bool) []byte {
	n := 17
	if tombstone {
		n = 18
	}
	b := make([]byte, n)
	binary.BigEndian.PutUint64(b[0:8], uint64(main))
	b[8] = '_'
	binary.BigEndian.PutUint64(b[9:17], 0)
	if tombstone {
		b[17] = 't'
	}
	return b
}

func u64(v int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return b
}

func (r *runner) bootstrap() {
	// Like etcd's first start: the stores create their buckets and force commits.
	for _, name := range bucketNames {
		_, err := r.tx.CreateBucketIfNotExists([]byte(name))
		must(err)
		r.pending++
	}
	r.commit()
	r.put("meta", []byte("consistent_index"), u64(0))
	r.commit()
}

// userKeyName is "k" followed by i in keyBytes-1 decimal digits (just "k" for a 1-byte key):
// only its length matters to the backend, whose keys are revisions.
func userKeyName(i, keyBytes int) string {
	s := "k"
	if keyBytes > 1 {
		s = fmt.Sprintf("k%0*d", keyBytes-1, i)
	}
	if len(s) != keyBytes {
		panic("key too long")
	}
	return s
}

// write appends one revision (a put or a tombstone) to the key bucket.
func (r *runner) write(name string, valueBytes int, tombstone bool, rng *rand.Rand) {
	r.rev++
	uk := r.keys[name]
	if uk == nil || uk.lastTombstone {
		uk = &userKey{create: r.rev}
		r.keys[name] = uk
	}
	var kv mvccpb.KeyValue
	if tombstone {
		kv = mvccpb.KeyValue{Key: []byte(name)}
		uk.lastTombstone = true
	} else {
		uk.version++
		value := make([]byte, valueBytes)
		rng.Read(value)
		kv = mvccpb.KeyValue{Key: []byte(name), CreateRevision: uk.create, ModRevision: r.rev, Version: uk.version, Value: value}
	}
	uk.last = r.rev
	data, err := kv.Marshal()
	must(err)
	b := r.tx.Bucket([]byte("key"))
	b.FillPercent = 0.9
	must(b.Put(revKey(r.rev, tombstone), data))
	r.pending++
	r.history = append(r.history, historyEntry{main: r.rev, tombstone: tombstone, key: name})
}

func (r *runner) writes(s Step, tombstone bool, rng *rand.Rand) {
	inCommit := 0
	for i := 0; i < s.Count; i++ {
		valueBytes := s.ValueBytes
		if s.RandomMax > 0 {
			valueBytes = r.sizes.next(s.RandomMax)
		}
		r.write(userKeyName(i%s.Keys, s.KeyBytes), valueBytes, tombstone, rng)
		inCommit++
		if inCommit == s.PerCommit || i == s.Count-1 {
			r.put("meta", []byte("consistent_index"), u64(r.rev))
			r.commit()
			inCommit = 0
		}
	}
}

// compact keeps, per user key, the newest revision at or below the compact revision unless
// it is a tombstone, and deletes every other revision at or below it (etcd's rule).
func (r *runner) compact(s Step) {
	at := r.rev - int64(s.Behind)
	r.put("meta", []byte("scheduledCompactRev"), revKey(at, false))
	r.commit()
	newest := map[string]historyEntry{}
	for _, h := range r.history {
		if h.main <= at {
			newest[h.key] = h
		}
	}
	const batch = 1000
	var kept []historyEntry
	scanned := 0
	for _, h := range r.history {
		if h.main > at {
			kept = append(kept, h)
			continue
		}
		scanned++
		if n := newest[h.key]; n.main == h.main && !h.tombstone {
			kept = append(kept, h)
		} else {
			must(r.tx.Bucket([]byte("key")).Delete(revKey(h.main, h.tombstone)))
			r.pending++
		}
		if scanned%batch == 0 {
			r.commit()
		}
	}
	r.put("meta", []byte("finishedCompactRev"), revKey(at, false))
	r.commit()
	r.history = kept
}

// defrag copies every bucket into a new file the way etcd's defragdb does, then reopens it.
func (r *runner) defrag() {
	must(r.tx.Commit())
	tmpPath := r.path + ".tmp"
	os.Remove(tmpPath)
	tmp := open(tmpPath)
	tmptx, err := tmp.Begin(true)
	must(err)
	src, err := r.db.Begin(false)
	must(err)
	count := 0
	must(src.ForEach(func(name []byte, b *bolt.Bucket) error {
		tb, err := tmptx.CreateBucketIfNotExists(name)
		must(err)
		tb.FillPercent = 0.9
		return b.ForEach(func(k, v []byte) error {
			count++
			if count > 10000 {
				must(tmptx.Commit())
				tmptx, err = tmp.Begin(true)
				must(err)
				tb = tmptx.Bucket(name)
				tb.FillPercent = 0.9
				count = 0
			}
			return tb.Put(k, v)
		})
	}))
	must(tmptx.Commit())
	must(src.Rollback())
	must(r.db.Close())
	must(tmp.Close())
	must(os.Rename(tmpPath, r.path))
	r.db = open(r.path)
	r.begin()
}

func run(dir string, sc Scenario) Fixture {
	path := filepath.Join(dir, "db")
	os.Remove(path)
	r := &runner{path: path, db: open(path), keys: map[string]*userKey{}, rev: 1, sizes: sizes{state: 1}}
	r.begin()
	r.figures = nil // the empty file before etcd's first commit is never reported
	r.bootstrap()
	rng := rand.New(rand.NewSource(1))
	for _, s := range sc.Steps {
		switch s.Op {
		case "puts":
			r.writes(s, false, rng)
		case "deletes":
			r.writes(s, true, rng)
		case "compact":
			r.compact(s)
		case "defrag":
			r.defrag()
		default:
			panic("unknown op " + s.Op)
		}
	}
	must(r.tx.Rollback())
	must(r.db.Close())
	return Fixture{Scenario: sc, PageSize: 4096, Figures: encodeFigures(r.figures, 4096)}
}

func scenarios() []Scenario {
	const mib = 1024 * 1024
	return []Scenario{
		{Name: "paced-1mib", Steps: []Step{
			{Op: "puts", Count: 1, Keys: 1, KeyBytes: 1, ValueBytes: 2, PerCommit: 1},
			{Op: "puts", Count: 9, Keys: 1, KeyBytes: 3, ValueBytes: mib, PerCommit: 1},
		}},
		{Name: "small-puts-commit-1", Steps: []Step{
			{Op: "puts", Count: 20000, Keys: 20000, KeyBytes: 8, ValueBytes: 100, PerCommit: 1},
		}},
		{Name: "small-puts-commit-1000", Steps: []Step{
			{Op: "puts", Count: 20000, Keys: 20000, KeyBytes: 8, ValueBytes: 100, PerCommit: 1000},
		}},
		{Name: "overwrite-one-key", Steps: []Step{
			{Op: "puts", Count: 3000, Keys: 1, KeyBytes: 4, ValueBytes: 300, PerCommit: 7},
		}},
		{Name: "mixed-sizes-and-tombstones", Steps: []Step{
			{Op: "puts", Count: 500, Keys: 50, KeyBytes: 6, ValueBytes: 2000, PerCommit: 3},
			{Op: "deletes", Count: 50, Keys: 50, KeyBytes: 6, PerCommit: 5},
			{Op: "puts", Count: 40, Keys: 40, KeyBytes: 6, ValueBytes: 9000, PerCommit: 1},
		}},
		{Name: "compact-then-puts", Steps: []Step{
			{Op: "puts", Count: 6000, Keys: 100, KeyBytes: 10, ValueBytes: 150, PerCommit: 50},
			{Op: "compact", Behind: 0},
			{Op: "puts", Count: 3000, Keys: 100, KeyBytes: 10, ValueBytes: 150, PerCommit: 50},
		}},
		{Name: "compact-keeps-tail", Steps: []Step{
			{Op: "puts", Count: 4000, Keys: 4000, KeyBytes: 9, ValueBytes: 60, PerCommit: 200},
			{Op: "puts", Count: 4000, Keys: 4000, KeyBytes: 9, ValueBytes: 60, PerCommit: 200},
			{Op: "compact", Behind: 1500},
			{Op: "puts", Count: 500, Keys: 500, KeyBytes: 9, ValueBytes: 60, PerCommit: 1},
		}},
		{Name: "defrag", Steps: []Step{
			{Op: "puts", Count: 25000, Keys: 300, KeyBytes: 12, ValueBytes: 80, PerCommit: 500},
			{Op: "defrag"},
			{Op: "compact", Behind: 0},
			{Op: "defrag"},
			{Op: "puts", Count: 200, Keys: 300, KeyBytes: 12, ValueBytes: 80, PerCommit: 1},
		}},
		{Name: "deep-tree-compact", Steps: []Step{
			{Op: "puts", Count: 60000, Keys: 1000, KeyBytes: 16, ValueBytes: 300, PerCommit: 100},
			{Op: "compact", Behind: 0},
			{Op: "puts", Count: 2000, Keys: 1000, KeyBytes: 16, ValueBytes: 300, PerCommit: 10},
			{Op: "defrag"},
			{Op: "puts", Count: 500, Keys: 1000, KeyBytes: 16, ValueBytes: 300, PerCommit: 1},
		}},
		{Name: "random-sizes", Steps: []Step{
			{Op: "puts", Count: 3000, Keys: 200, KeyBytes: 7, RandomMax: 20000, PerCommit: 4},
			{Op: "deletes", Count: 100, Keys: 200, KeyBytes: 7, PerCommit: 3},
			{Op: "compact", Behind: 500},
			{Op: "puts", Count: 600, Keys: 300, KeyBytes: 7, RandomMax: 5000, PerCommit: 2},
			{Op: "compact", Behind: 0},
			{Op: "puts", Count: 300, Keys: 300, KeyBytes: 7, RandomMax: 300, PerCommit: 1},
		}},
		{Name: "paced-1mib-compact-defrag", Steps: []Step{
			{Op: "puts", Count: 1, Keys: 1, KeyBytes: 1, ValueBytes: 2, PerCommit: 1},
			{Op: "puts", Count: 8, Keys: 1, KeyBytes: 3, ValueBytes: mib, PerCommit: 1},
			{Op: "defrag"},
			{Op: "compact", Behind: 0},
			{Op: "defrag"},
			{Op: "puts", Count: 1, Keys: 1, KeyBytes: 1, ValueBytes: 2, PerCommit: 1},
		}},
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run gen.go <fixtures dir>")
		os.Exit(2)
	}
	out := os.Args[1]
	work, err := ioutil.TempDir("", "bolt-size-ref")
	must(err)
	defer os.RemoveAll(work)
	names := []string{}
	for _, sc := range scenarios() {
		f := run(work, sc)
		data, err := json.Marshal(f)
		must(err)
		must(ioutil.WriteFile(filepath.Join(out, sc.Name+".json"), append(data, '\n'), 0644))
		names = append(names, sc.Name)
	}
	sort.Strings(names)
	fmt.Println("wrote", names)
}
