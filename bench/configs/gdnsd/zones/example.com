; Failover zone: www and every other name answer the healthy region (simplefo).
$TTL 300
@ SOA ns1 hostmaster 1 7200 1800 259200 300
@ NS ns1
ns1 A 127.0.0.1
www 30 DYNA simplefo!site
* 30 DYNA simplefo!site
