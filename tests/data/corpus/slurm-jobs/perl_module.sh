#!/bin/bash
#SBATCH --job-name=gc_content
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > gc.pl <<'PL'
#!/usr/bin/perl
use strict;
use warnings;
use Bio::SeqIO;

my $in = Bio::SeqIO->new(-file => $ARGV[0], -format => 'fasta');
PL
perl gc.pl contigs.fa
