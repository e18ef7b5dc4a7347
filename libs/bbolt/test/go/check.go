// Opens a bbolt file with the real go.etcd.io/bbolt, runs its consistency check and prints
// the contents as JSON (bytes as hex), so Keel's tests can compare against what they wrote.
// Run: GO111MODULE=off GOPATH=/usr/share/gocode go run check.go <file>
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

type entry struct {
	Key    string  `json:"key"`
	Value  string  `json:"value,omitempty"`
	Bucket *bucket `json:"bucket,omitempty"`
}

type bucket struct {
	Inline  bool    `json:"inline"`
	Entries []entry `json:"entries"`
}

type report struct {
	Errors   []string           `json:"errors"`
	Buckets  map[string]*bucket `json:"buckets"`
	PageSize int                `json:"pageSize"`
	Size     int64              `json:"size"`
	Txid     int                `json:"txid"`
}

func dump(b *bolt.Bucket) *bucket {
	out := &bucket{Inline: b.Root() == 0, Entries: []entry{}}
	_ = b.ForEach(func(k, v []byte) error {
		e := entry{Key: hex.EncodeToString(k)}
		if v == nil {
			e.Bucket = dump(b.Bucket(k))
		} else {
			e.Value = hex.EncodeToString(v)
		}
		out.Entries = append(out.Entries, e)
		return nil
	})
	return out
}

func main() {
	db, err := bolt.Open(os.Args[1], 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	defer db.Close()
	r := report{Errors: []string{}, Buckets: map[string]*bucket{}, PageSize: db.Info().PageSize}
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			r.Errors = append(r.Errors, e.Error())
		}
		r.Size = tx.Size()
		r.Txid = tx.ID()
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			r.Buckets[string(name)] = dump(b)
			return nil
		})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "view:", err)
		os.Exit(2)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
