"""Time in memory: the times koe keeps (`timestamps`), and the times people say ("last
Tuesday", "in March", "since yesterday": `phrases`).
"""
