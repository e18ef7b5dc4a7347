// Command yardstick is a minimal put load generator built on etcd's own Go client (clientv3),
// used to check that bin/benchmark is not the bottleneck: it drives N clients over M
// connections, each client issuing Put requests back to back, and prints requests/s and
// latency percentiles. Build (GOPATH mode, Debian's golang-etcd-server-dev sources):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/yardstick ./tools/benchmark/yardstick
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type result struct {
	Total      int64   `json:"total"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	RequestsPS float64 `json:"requestsPerSecond"`
	AvgMs      float64 `json:"averageMs"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
}

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated endpoints")
	conns := flag.Int("conns", 1, "gRPC connections")
	clients := flag.Int("clients", 1, "concurrent clients, spread over the connections")
	total := flag.Int64("total", 10000, "puts in all")
	keySize := flag.Int("key-size", 8, "key bytes")
	valSize := flag.Int("val-size", 256, "value bytes")
	keySpace := flag.Int("key-space-size", 1, "distinct keys")
	asJSON := flag.Bool("json", false, "print JSON")
	flag.Parse()
	if *conns < 1 || *clients < 1 || *total < 1 {
		fmt.Fprintln(os.Stderr, "yardstick: --conns, --clients and --total must be positive")
		os.Exit(2)
	}

	cfg := clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second}
	conn := make([]*clientv3.Client, *conns)
	for i := range conn {
		c, err := clientv3.New(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "yardstick: connect:", err)
			os.Exit(1)
		}
		defer c.Close()
		conn[i] = c
	}
	value := strings.Repeat("v", *valSize)

	var issued, errors int64
	latencies := make([][]time.Duration, *clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			kv := conn[i%len(conn)]
			rng := rand.New(rand.NewSource(int64(i)))
			key := make([]byte, *keySize)
			for atomic.AddInt64(&issued, 1) <= *total {
				n := rng.Intn(*keySpace)
				for b := range key {
					key[b] = byte('0' + (n>>(uint(b)*3))&7)
				}
				t := time.Now()
				if _, err := kv.Put(context.Background(), string(key), value); err != nil {
					atomic.AddInt64(&errors, 1)
				}
				latencies[i] = append(latencies[i], time.Since(t))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	var sum time.Duration
	for _, l := range latencies {
		all = append(all, l...)
		for _, d := range l {
			sum += d
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	r := result{
		Total: int64(len(all)), Errors: errors, Seconds: elapsed.Seconds(),
		RequestsPS: float64(len(all)) / elapsed.Seconds(),
		AvgMs:      float64(sum.Microseconds()) / 1000 / float64(len(all)),
		P50Ms:      pct(0.5), P99Ms: pct(0.99),
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	fmt.Printf("total %d, errors %d, %.2fs, %.0f req/s, avg %.2f ms, p50 %.2f ms, p99 %.2f ms\n",
		r.Total, r.Errors, r.Seconds, r.RequestsPS, r.AvgMs, r.P50Ms, r.P99Ms)
}
