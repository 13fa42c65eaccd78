#!/bin/bash
#SBATCH --job-name=sqlite_locked
#SBATCH --time=5
#SBATCH --output=%x-%j.out
DB=results-$SLURM_JOB_ID.db
python3 -c "import sqlite3; c=sqlite3.connect('$DB'); c.execute('create table if not exists r (k text, v real)'); c.commit()"
# the monitoring writer keeps a transaction open while the trial writes its results
python3 -c "
import sqlite3, time
c = sqlite3.connect('$DB')
c.execute('begin exclusive')
c.execute(\"insert into r values ('heartbeat', 1)\")
time.sleep(15)
c.commit()
" &
sleep 1
python3 - "$DB" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=3)
print("writing trial results", flush=True)
con.execute("insert into r values ('loss', 0.25)")
con.commit()
PY
