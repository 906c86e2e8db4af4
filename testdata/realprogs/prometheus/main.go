// Command prometheus is a service instrumented with
// github.com/prometheus/client_golang, for tests/e2e/realprog.py: a
// registry that had 300 per-job gauges of which 10 are still registered, a
// request counter with a label per user (20,000 users, 10 left after
// DeleteLabelValues), a latency histogram with a few label values, all
// scraped once over loopback through promhttp.  It writes its ground
// truth (testdata/oracle) to $MAPSCAN_ORACLE and dies with a core.
package main

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mapscan/testdata/oracle"
)

var (
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // by user: 20,000 users, 10 left
	latency  *prometheus.HistogramVec // by method: 5 values, only grew
	jobs     []prometheus.Gauge       // the 10 per-job gauges still registered
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	reg = prometheus.NewRegistry()
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "Requests by user."},
		[]string{"user"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency_seconds", Help: "Latency.",
		Buckets: prometheus.DefBuckets}, []string{"method"})
	must(reg.Register(requests))
	must(reg.Register(latency))

	// Jobs come and go: each registers its own gauge and unregisters it
	// when it ends.
	var all []prometheus.Gauge
	for i := 0; i < 300; i++ {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "job_" + strconv.Itoa(i) + "_progress", Help: "Job progress."})
		must(reg.Register(g))
		g.Set(float64(i))
		all = append(all, g)
	}
	for i, g := range all {
		if i < 290 {
			reg.Unregister(g)
		} else {
			jobs = append(jobs, g)
		}
	}

	for i := 0; i < 20000; i++ {
		requests.WithLabelValues("user-" + strconv.Itoa(i)).Inc()
	}
	for i := 0; i < 20000-10; i++ {
		requests.DeleteLabelValues("user-" + strconv.Itoa(i))
	}
	for i, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
		latency.WithLabelValues(m).Observe(float64(i) / 100)
	}

	// One scrape, the way Prometheus would.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	go srv.Serve(ln)
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	must(err)
	body, err := io.ReadAll(resp.Body)
	must(err)
	must(resp.Body.Close())
	if !strings.Contains(string(body), `requests_total{user="user-19999"} 1`) {
		panic("scrape lacks requests_total: " + string(body[:200]))
	}
	http.DefaultClient.CloseIdleConnections()
	must(srv.Close())

	t := oracle.NewTruth("prometheus", 100)
	for _, f := range []struct{ field, state string }{
		{"collectorsByID", "302 registered, 290 unregistered"},
		{"descIDs", "302 registered, 290 unregistered"},
		{"dimHashesByName", "302 registered, 290 unregistered"},
	} {
		m, path := oracle.Dig(&reg, "main.reg", oracle.Field(f.field))
		t.Add("reg."+f.field, f.state, path, m)
	}
	m, path := oracle.Dig(&requests, "main.requests", oracle.Field("MetricVec"), oracle.Field("metricMap"),
		oracle.Field("metrics"))
	t.Add("requests.metrics", "20000 users, 10 left", path, m)
	m, path = oracle.Dig(&latency, "main.latency", oracle.Field("MetricVec"), oracle.Field("metricMap"),
		oracle.Field("metrics"))
	t.Add("latency.metrics", "5 methods", path, m)
	t.Crash()
}
