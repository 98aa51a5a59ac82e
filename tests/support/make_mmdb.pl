#!/usr/bin/perl
# Writes a small MaxMind DB file for tests (Debian: libmaxmind-db-writer-perl).
# usage: make_mmdb.pl SPEC.json OUT.mmdb
# SPEC: {"type": "GeoLite2-City", "ip_version": 6, "networks": [
#   {"network": "192.0.2.0/24", "continent": "EU", "country": "DE",
#    "subdivision": "BY", "latitude": 50.11, "longitude": 8.68, "asn": 64500}, ...]}
# Every field but "network" is optional. Documentation and private ranges are kept.
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Writer::Tree;

my ($spec_path, $out) = @ARGV;
die "usage: $0 SPEC.json OUT.mmdb\n" unless $spec_path && $out;
open(my $in, '<', $spec_path) or die "$spec_path: $!\n";
my $spec = decode_json(do { local $/; <$in> });
close $in;

my %types = (
    continent => 'map', country => 'map', registered_country => 'map', location => 'map',
    subdivisions => ['array', 'map'], code => 'utf8_string', iso_code => 'utf8_string',
    latitude => 'double', longitude => 'double', autonomous_system_number => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => $spec->{ip_version} // 6,
    record_size => 28,
    database_type => $spec->{type} // 'GeoLite2-City',
    languages => ['en'],
    description => { en => 'signpost test database' },
    map_key_type_callback => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
for my $n (@{ $spec->{networks} }) {
    my %rec;
    $rec{continent} = { code => $n->{continent} } if $n->{continent};
    $rec{country} = { iso_code => $n->{country} } if $n->{country};
    $rec{subdivisions} = [ { iso_code => $n->{subdivision} } ] if $n->{subdivision};
    $rec{location} = { latitude => $n->{latitude} + 0.0, longitude => $n->{longitude} + 0.0 }
        if defined $n->{latitude};
    $rec{autonomous_system_number} = $n->{asn} + 0 if $n->{asn};
    $tree->insert_network($n->{network}, \%rec);
}
open(my $fh, '>:raw', $out) or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
