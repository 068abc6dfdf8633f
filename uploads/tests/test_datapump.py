"""Data Pump file sets: DUMPFILE templates (%U, %L, directory objects, lists) and expdp logs."""

import pytest

from uploads import datapump

FULL_LOG = """\
;;;
Export: Release 19.0.0.0.0 - Production on Tue Mar 5 10:12:01 2024
Version 19.21.0.0.0

Copyright (c) 1982, 2019, Oracle and/or its affiliates.  All rights reserved.
;;;
Connected to: Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production
Starting "SYSTEM"."SYS_EXPORT_FULL_01":  system/******** directory=DATA_PUMP_DIR dumpfile=exp_%U.dmp full=y
Processing object type DATABASE_EXPORT/EARLY_OPTIONS/VIEWS_AS_TABLES/TABLE_DATA
. . exported "SYS"."KU$_USER_MAPPING_VIEW"               5.890 KB      25 rows
. . exported "SCOTT"."EMP"                               8.781 KB      14 rows
Master table "SYSTEM"."SYS_EXPORT_FULL_01" successfully loaded/unloaded
******************************************************************************
Dump file set for SYSTEM.SYS_EXPORT_FULL_01 is:
  /u01/app/oracle/admin/ORCL/dpdump/exp_01.dmp
  /u01/app/oracle/admin/ORCL/dpdump/exp_02.dmp
  /u01/app/oracle/admin/ORCL/dpdump/exp_03.dmp
Job "SYSTEM"."SYS_EXPORT_FULL_01" successfully completed at Tue Mar 5 10:20:44 2024 elapsed 0 00:08:41
"""

FAILED_LOG = """\
Export: Release 12.2.0.1.0 - Production on Wed Jan 10 09:00:00 2024
Connected to: Oracle Database 12c Enterprise Edition Release 12.2.0.1.0 - 64bit Production
Starting "HR"."SYS_EXPORT_SCHEMA_01":  hr/******** schemas=HR dumpfile=hr_%L.dmp
ORA-39095: Dump file space has been exhausted: Unable to allocate 8192 bytes
Job "HR"."SYS_EXPORT_SCHEMA_01" stopped due to fatal error at Wed Jan 10 09:03:12 2024 elapsed 0 00:03:11
"""

WINDOWS_LOG = """\
Dump file set for "SYSTEM"."SYS_EXPORT_SCHEMA_02" is:
  C:\\APP\\ORACLE\\ADMIN\\ORCL\\DPDUMP\\EXP_01.DMP
  +DATA/ORCL/DPDUMP/exp2_01.dmp
Job "SYSTEM"."SYS_EXPORT_SCHEMA_02" completed with 2 error(s) at Thu Feb 1 11:00:00 2024 elapsed 0 00:01:00
"""


class TestTemplates:
    def test_percent_u_is_two_digits_from_01_to_99(self):
        [t] = datapump.parse_dumpfile("exp_%U.dmp")
        assert [t.nth(n) for n in (1, 2, 99)] == ["exp_01.dmp", "exp_02.dmp", "exp_99.dmp"]
        assert t.highest == 99
        assert t.number_of("exp_03.dmp") == 3
        for name in ("exp_3.dmp", "exp_00.dmp", "exp_100.dmp", "exp_01.dmp.gz", "xexp_01.dmp"):
            assert not t.matches(name), name
        with pytest.raises(ValueError):
            t.nth(100)

    def test_percent_l_counts_on_past_99_without_padding(self):
        [t] = datapump.parse_dumpfile("full_%L.dmp")
        assert [t.nth(n) for n in (1, 99, 100, 12345)] == [
            "full_01.dmp",
            "full_99.dmp",
            "full_100.dmp",
            "full_12345.dmp",
        ]
        assert t.number_of("full_2147483646.dmp") == datapump.LONG_MAX
        for name in ("full_2147483647.dmp", "full_1.dmp", "full_0100.dmp", "full_12345678901.dmp"):
            assert not t.matches(name), name

    def test_directory_objects_lists_and_repeated_parameters(self):
        spec = "DUMPFILE=dir1:exp_%U.dmp,dir2:exp2_%U.dmp DUMPFILE=extra"
        names = [t.name for t in datapump.parse_dumpfile(spec)]
        assert names == ["exp_%U.dmp", "exp2_%U.dmp", "extra.dmp"]
        assert datapump.matches(spec, "exp2_17.dmp") and datapump.matches(spec, "EXTRA.DMP")
        assert not datapump.matches(spec, "exp3_01.dmp")

    def test_odd_casing_matches_and_variables_move_together(self):
        assert datapump.matches("Exp_%u.DMP", "EXP_01.dmp")
        [t] = datapump.parse_dumpfile("exp%Uaa%U.dmp")
        assert t.nth(2) == "exp02aa02.dmp" and t.matches("EXP02AA02.DMP")
        assert not t.matches("exp02aa03.dmp")

    def test_a_plain_name_is_one_file(self):
        [t] = datapump.parse_dumpfile("'scott.dmp'")
        assert not t.is_set and t.highest == 1 and t.matches("SCOTT.dmp")

    @pytest.mark.parametrize("spec", ["", "DUMPFILE=", " , ", "/u01/exp_%U.dmp"])
    def test_unusable_specs_are_refused(self, spec):
        with pytest.raises(ValueError):
            datapump.parse_dumpfile(spec)


class TestLogs:
    def test_a_finished_export_names_its_set(self):
        log = datapump.parse_log(FULL_LOG)
        assert log.files == ("exp_01.dmp", "exp_02.dmp", "exp_03.dmp")
        assert log.job == "SYSTEM.SYS_EXPORT_FULL_01"
        assert log.succeeded and log.set_known

    def test_a_log_without_the_dump_file_set_lines_knows_no_set(self):
        log = datapump.parse_log(FAILED_LOG)
        assert log.files == () and not log.set_known
        assert log.outcome == "stopped due to fatal error" and not log.succeeded
        assert log.job == "HR.SYS_EXPORT_SCHEMA_01"

    def test_windows_and_asm_paths_with_odd_casing(self):
        log = datapump.parse_log(WINDOWS_LOG.replace("\n", "\r\n"))
        assert log.files == ("EXP_01.DMP", "exp2_01.dmp")
        assert log.outcome == "completed with 2 error(s)" and not log.succeeded
        assert datapump.matches("dir1:exp_%U.dmp,dir2:exp2_%U.dmp", log.files[0])

    def test_a_restarted_job_counts_its_last_set(self):
        again = FULL_LOG.replace("exp_03.dmp\n", "exp_03.dmp\n  /u01/dpdump/exp_04.dmp\n")
        log = datapump.parse_log(FULL_LOG + again)
        assert log.files[-1] == "exp_04.dmp" and len(log.files) == 4

    def test_an_empty_log(self):
        assert datapump.parse_log("") == datapump.ExportLog(())
