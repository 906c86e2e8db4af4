// Command bigcache keeps rendered pages in github.com/allegro/bigcache/v3,
// for tests/e2e/realprog.py: a 256-shard cache (two maps per shard: the
// index and the hit counters) that held 60,000 pages and now holds 256, and
// a 16-shard cache that only grew.  It writes its ground truth
// (testdata/oracle) to $MAPSCAN_ORACLE and dies with a core.
package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/allegro/bigcache/v3"

	"mapscan/testdata/oracle"
)

var (
	pages *bigcache.BigCache // 256 shards, 60,000 pages in, 256 left
	users *bigcache.BigCache // 16 shards, only grew
)

func newCache(shards, entries int) *bigcache.BigCache {
	cfg := bigcache.DefaultConfig(time.Hour)
	cfg.Shards = shards
	cfg.MaxEntriesInWindow = entries
	cfg.MaxEntrySize = 64
	cfg.CleanWindow = 0 // no cleanup goroutine: nothing may write a map after it is measured
	cfg.StatsEnabled = true
	cfg.Verbose = false
	c, err := bigcache.New(nil, cfg) //nolint:staticcheck // a nil context is what v3.0 and v3.1 both take
	if err != nil {
		panic(err)
	}
	return c
}

func main() {
	pages = newCache(256, 256*32)
	body := []byte("<html><body>cached page</body></html>")
	for i := 0; i < 60000; i++ {
		if err := pages.Set("/page/"+strconv.Itoa(i), body); err != nil {
			panic(err)
		}
	}
	for i := 0; i < 60000; i++ {
		if _, err := pages.Get("/page/" + strconv.Itoa(i)); err != nil {
			panic(err)
		}
	}
	// Keep one page per shard.
	kept := map[int]bool{}
	for i := 0; i < 60000; i++ {
		k := "/page/" + strconv.Itoa(i)
		if s := shardOf(k, 256); !kept[s] {
			kept[s] = true
			continue
		}
		if err := pages.Delete(k); err != nil {
			panic(err)
		}
	}

	users = newCache(16, 16*8)
	for i := 0; i < 5000; i++ {
		if err := users.Set("user-"+strconv.Itoa(i), []byte(strconv.Itoa(i))); err != nil {
			panic(err)
		}
	}

	t := oracle.NewTruth("bigcache", 256)
	for s := 0; s < 256; s++ {
		for _, f := range []string{"hashmap", "hashmapStats"} {
			m, path := oracle.Dig(&pages, "main.pages", oracle.Field("shards"), oracle.Index(s), oracle.Field(f))
			tm := t.Add(fmt.Sprintf("pages.shards[%d].%s", s, f), "60000 pages, 1 left", path, m)
			if s != 17 {
				tm.Group = "pages.shards[*]." + f
			}
		}
	}
	for s := 0; s < 16; s++ {
		for _, f := range []string{"hashmap", "hashmapStats"} {
			m, path := oracle.Dig(&users, "main.users", oracle.Field("shards"), oracle.Index(s), oracle.Field(f))
			tm := t.Add(fmt.Sprintf("users.shards[%d].%s", s, f), "5000 users, only grew", path, m)
			tm.Grown = f == "hashmap"
			tm.Group = "users.shards[*]." + f
		}
	}
	t.Crash()
}

// shardOf is bigcache's default shard choice: FNV-1a 64 of the key, masked.
func shardOf(key string, shards uint64) int {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime64
	}
	return int(h & (shards - 1))
}
