import os.path as osp
from setuptools import find_packages, setup


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


def version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'hjepa', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='hjepa',
    version=version(),
    description='H-JEPA: Hierarchical Joint-Embedding Predictive '
    'Architectures for self-supervised image representations',
    long_description=open('README.md').read()
    if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'projects')),
    python_requires='>=3.8',
    install_requires=[
        r for r in read_requirements('runtime.txt')
        if not r.startswith('mmcv')  # built from source: see the Makefile
    ] + ['torch>=2.0', 'torchvision'],
    extras_require=dict(tests=read_requirements('tests.txt')),
    license='Apache License 2.0',
    zip_safe=False,
)
