module bigcache

go 1.19

require (
	github.com/allegro/bigcache/v3 v3.1.0
	mapscan/testdata/oracle v0.0.0
)

replace mapscan/testdata/oracle => ../../oracle
