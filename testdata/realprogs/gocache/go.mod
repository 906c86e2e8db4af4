module gocache

go 1.19

require (
	github.com/patrickmn/go-cache v2.1.0+incompatible
	mapscan/testdata/oracle v0.0.0
)

replace mapscan/testdata/oracle => ../../oracle
