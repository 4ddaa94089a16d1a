import cProfile, pstats
from guanxi.core.tests.test_imports_engine import *  # noqa

def test_prof(org, settings):
    text = HEADER + "".join(f"客户{i},1380000{i:04d},c{i}@x.cn,信息技术,rep1,\n" for i in range(200))
    job = upload(org.manager, csv_file(text))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    p = cProfile.Profile(); p.enable()
    services.import_job_process(job.pk)
    p.disable()
    pstats.Stats(p).sort_stats("cumulative").print_stats(35)
    assert 0
