// Command grpc is a google.golang.org/grpc server and client over loopback,
// for tests/e2e/realprog.py.  The server serves the standard health
// service: 1,000 services report their status (the status map only grew)
// and the client opens 500 Watch streams on one service, then cancels 490,
// so the health server's per-service watcher map and the server
// transport's active-stream map both held 500 streams and now hold 10; the
// 10 server goroutines of those streams wait in selects.  It writes its
// ground truth (testdata/oracle) to $MAPSCAN_ORACLE and dies with a core.
package main

import (
	"context"
	"net"
	"reflect"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"mapscan/testdata/oracle"
)

var (
	gs      *grpc.Server
	hs      *health.Server
	cc      *grpc.ClientConn
	streams []healthpb.Health_WatchClient // the 10 Watch streams left open
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// watchers is len(hs.updates["svc-watched"]), under the health server's lock.
func watchers() int {
	mu := (*sync.RWMutex)(oracle.FieldAddr(hs, "mu"))
	mu.RLock()
	defer mu.RUnlock()
	u := reflect.NewAt(reflect.ValueOf(hs).Elem().FieldByName("updates").Type(),
		oracle.FieldAddr(hs, "updates")).Elem()
	return u.MapIndex(reflect.ValueOf("svc-watched")).Len()
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	gs = grpc.NewServer()
	hs = health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	for i := 0; i < 1000; i++ {
		hs.SetServingStatus("svc-"+strconv.Itoa(i), healthpb.HealthCheckResponse_SERVING)
	}
	hs.SetServingStatus("svc-watched", healthpb.HealthCheckResponse_SERVING)
	go gs.Serve(ln)

	cc, err = grpc.Dial(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(err)
	client := healthpb.NewHealthClient(cc)
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		r, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "svc-" + strconv.Itoa(i)})
		must(err)
		if r.Status != healthpb.HealthCheckResponse_SERVING {
			panic(r.Status.String())
		}
	}
	var cancels []context.CancelFunc
	for i := 0; i < 500; i++ {
		sctx, cancel := context.WithCancel(ctx)
		st, err := client.Watch(sctx, &healthpb.HealthCheckRequest{Service: "svc-watched"})
		must(err)
		if _, err := st.Recv(); err != nil {
			panic(err)
		}
		if i < 490 {
			cancels = append(cancels, cancel)
		} else {
			streams = append(streams, st)
		}
	}
	for _, c := range cancels {
		c()
	}
	deadline := time.Now().Add(20 * time.Second)
	for watchers() != 10 {
		if time.Now().After(deadline) {
			panic("watchers still open: " + strconv.Itoa(watchers()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the transports finish closing the streams

	t := oracle.NewTruth("grpc", 100)
	m, path := oracle.Dig(&hs, "main.hs", oracle.Field("statusMap"))
	t.Add("hs.statusMap", "1002 services (with the server's own \"\"), only grew", path, m).Grown = true
	m, path = oracle.Dig(&hs, "main.hs", oracle.Field("updates"))
	t.Add("hs.updates", "1 watched service", path, m)
	m, path = oracle.Dig(&hs, "main.hs", oracle.Field("updates"), oracle.MapValue{Key: "svc-watched"})
	t.Add("hs.updates[svc-watched]", "500 Watch streams, 490 cancelled", path, m)
	m, path = oracle.Dig(&gs, "main.gs", oracle.Field("services"))
	t.Add("gs.services", "the health service", path, m)
	any := func(k, v reflect.Value) bool { return true }
	m, path = oracle.Dig(&gs, "main.gs", oracle.Field("conns"), oracle.MapWhere{Pick: any}, oracle.MapKeyWhere{Pick: any},
		oracle.Field("activeStreams"))
	if n := reflect.ValueOf(m).Len(); n != 10 {
		panic("server transport has " + strconv.Itoa(n) + " active streams, want 10")
	}
	t.Add("transport.activeStreams", "500 streams, 490 cancelled", path, m)
	t.Crash()
}
