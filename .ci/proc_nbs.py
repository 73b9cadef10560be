"""`nbdev-proc-nbs` without its Quarto install step (Quarto cannot be installed here): refresh the site
configuration, build the module index, and pre-process every notebook for rendering."""
if __name__ == '__main__':
    import nbdev.doclinks
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    refresh_quarto_yml(); nbdev.doclinks._build_modidx()
    print(f"processed notebooks into {proc_nbs()}")
