module lru

go 1.19

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7
	mapscan/testdata/oracle v0.0.0
)

replace mapscan/testdata/oracle => ../../oracle
